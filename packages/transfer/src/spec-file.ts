import { readFile } from 'node:fs/promises';
import { SpecError } from './errors.js';
import { describeError } from './internal/fs-errors.js';
import { parseSpec, type SpecEntry } from './spec.js';

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads and validates a spec file, or standard input for `-` (SpecError when unusable). */
export async function readSpecFile(
  path: string,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<SpecEntry[]> {
  if (path === '-') return parseSpec(await readAll(stdin), '<stdin>');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SpecError(`cannot read the spec: ${describeError(err, path)} (expected a JSON file)`);
  }
  return parseSpec(text, path);
}
