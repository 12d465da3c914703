import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BufferedWriter } from '../src/buffered-writer.js';
import { eachLine, LineReader } from '../src/line-reader.js';
import { progressBar } from '../src/progress-bar.js';
import { readRange } from '../src/read-range.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'io-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('LineReader', () => {
  it('returns every line, a last one without newline too, across 1 MB reads and split characters', () => {
    const path = join(dir, 'f');
    const long = 'é'.repeat(700_000); // 1.4 MB: a two-byte character straddles the first read
    writeFileSync(path, `a\n\n${long}\nlast`);
    const r = new LineReader(path);
    const lines: string[] = [];
    const partial: boolean[] = [];
    for (let l = r.next(); l !== undefined; l = r.next()) {
      lines.push(l);
      partial.push(r.partial);
    }
    r.close();
    expect(lines).toEqual(['a', '', long, 'last']);
    expect(partial).toEqual([false, false, false, true]);
    expect(r.lineNo).toBe(4);
  });

  it('eachLine hands over complete lines and says where the rest starts', () => {
    const got: string[] = [];
    expect(eachLine('x\ny\nzz', (l) => got.push(l))).toBe(4);
    expect(got).toEqual(['x', 'y']);
  });
});

describe('BufferedWriter', () => {
  it('writes nothing until flushed, then all of it; append adds', () => {
    const path = join(dir, 'out');
    const w = BufferedWriter.truncate(path);
    w.write('one\n');
    w.write(Buffer.from('two\n'));
    expect(readFileSync(path, 'utf8')).toBe('');
    expect(w.pending).toBe(8);
    w.close();
    expect(readFileSync(path, 'utf8')).toBe('one\ntwo\n');
    const a = BufferedWriter.append(path);
    a.write('three\n');
    a.close();
    expect(readFileSync(path, 'utf8')).toBe('one\ntwo\nthree\n');
  });

  it('flushes by itself past 8 MB', () => {
    const path = join(dir, 'big');
    const w = BufferedWriter.truncate(path);
    const block = 'x'.repeat(1 << 20);
    for (let i = 0; i < 9; i++) w.write(block);
    expect(readFileSync(path).length).toBe(8 << 20);
    w.close();
    expect(readFileSync(path).length).toBe(9 << 20);
  });
});

describe('readRange and progressBar', () => {
  it('reads a byte range, short at the end of the file', () => {
    const path = join(dir, 'r');
    writeFileSync(path, '0123456789');
    expect(String(readRange(path, 3, 4))).toBe('3456');
    expect(String(readRange(path, 8, 100))).toBe('89');
    expect(readRange(path, 20, 5).length).toBe(0);
  });

  it('draws a clamped bar', () => {
    expect(progressBar(0.5, 10)).toBe('[#####.....]');
    expect(progressBar(2, 4)).toBe('[####]');
    expect(progressBar(Number.NaN, 4)).toBe('[....]');
  });
});
