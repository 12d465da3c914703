import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { BlockYamlParser, type RootItemHook, type RootItemSink } from './fast-yaml.js';

/**
 * Streams a YAML file through the fast reader, line by line (never the whole file as one string).
 * Throws YamlSubsetDecline when the file leaves the subset, or the file system's error.
 */
export async function streamYamlSubset(
  path: string,
  hook?: RootItemHook,
  sink?: RootItemSink,
): Promise<unknown> {
  const parser = new BlockYamlParser(hook, sink);
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  const dec = new StringDecoder('utf8');
  let carry = '';
  let carryAscii = true;
  let offset = 0;
  let no = 1;
  let first = true;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let str = dec.write(chunk);
    const ascii = str.length === chunk.length;
    if (first && str.length > 0) {
      first = false;
      if (str.charCodeAt(0) === 0xfeff) {
        str = str.slice(1);
        offset = 3;
      }
    }
    const text = carry + str;
    let start = 0;
    for (let e = text.indexOf('\n'); e !== -1; e = text.indexOf('\n', start)) {
      const line = text.slice(start, e);
      parser.line(line, no++, offset);
      const fast = start === 0 ? ascii && carryAscii : ascii;
      offset += (fast ? line.length : Buffer.byteLength(line)) + 1;
      start = e + 1;
    }
    carryAscii = start > 0 ? ascii : ascii && carryAscii;
    carry = text.slice(start);
  }
  const last = carry + dec.end();
  if (last.length > 0) parser.line(last, no, offset);
  return parser.end();
}
