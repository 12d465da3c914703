import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SpecError } from '../src/errors.js';
import { specFromPlanJob } from '../src/from-plan.js';
import { backoffDelay, MAX_BACKOFF_MS } from '../src/internal/backoff.js';
import { integrityFromProperty, parseTransferOptions, resolveOptions } from '../src/options.js';
import { formatSpec, parseSpec, type SpecEntry } from '../src/spec.js';
import { readSpecFile } from '../src/spec-file.js';
import { tempDir } from './helpers.js';

const SUM = 'ab'.repeat(32);

function specError(text: string): string {
  try {
    parseSpec(text, 'job.json');
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    expect((err as SpecError).exitCode).toBe(2);
    return (err as Error).message;
  }
  throw new Error('expected a SpecError');
}

describe('parseSpec', () => {
  it('reads transfer, mkdir and remove entries (pegasus-transfer spellings too)', () => {
    const text = JSON.stringify([
      {
        type: 'transfer',
        id: 1,
        lfn: 'f.a',
        linkage: 'input',
        generate_checksum: true,
        src_urls: [
          {
            site_label: 'local',
            url: 'file:///d/f.a',
            priority: 100,
            checksum: { sha256: SUM.toUpperCase() },
          },
        ],
        dest_urls: [{ site_label: 'x', url: 'file:///s/f.a' }],
      },
      { type: 'mkdir', id: 2, target: { site_label: 'x', url: 'file:///s' } },
      { type: 'remove', id: 3, target: { site_label: 'x', url: 'file:///s', recursive: 'True' } },
      { type: 'remove', target: { site_label: 'x', url: 'file:///s/f' }, recursive: false },
    ]);
    expect(parseSpec(`\uFEFF${text}`)).toEqual([
      {
        type: 'transfer',
        id: 1,
        lfn: 'f.a',
        linkage: 'input',
        generate_checksum: true,
        src_urls: [{ site_label: 'local', url: 'file:///d/f.a', checksum: { sha256: SUM } }],
        dest_urls: [{ site_label: 'x', url: 'file:///s/f.a' }],
      },
      { type: 'mkdir', id: 2, target: { site_label: 'x', url: 'file:///s' } },
      { type: 'remove', id: 3, target: { site_label: 'x', url: 'file:///s' }, recursive: true },
      { type: 'remove', target: { site_label: 'x', url: 'file:///s/f' }, recursive: false },
    ]);
  });

  it('round-trips through formatSpec, one entry per line', () => {
    const entries: SpecEntry[] = [
      { type: 'mkdir', target: { site_label: 'a', url: 'file:///w' } },
      { type: 'remove', target: { site_label: 'a', url: 'file:///w' }, recursive: true },
    ];
    const text = formatSpec(entries);
    expect(text.split('\n')).toHaveLength(5);
    expect(parseSpec(text)).toEqual(entries);
    expect(formatSpec([])).toBe('[]\n');
  });

  it('reports JSON syntax errors with file, line and column', () => {
    expect(specError('[\n {"type": "mkdir",}\n]')).toBe(
      'job.json:2:19: invalid JSON: Expected double-quoted property name (expected a JSON array of transfer/mkdir/remove entries)',
    );
    expect(specError('[\n')).toMatch(/^job\.json:2:1: invalid JSON: Unexpected end of JSON input/);
  });

  it('names the entry, the key and what was expected', () => {
    expect(specError('{}')).toBe(
      'job.json: top level: is an object (expected a JSON array of transfer/mkdir/remove entries)',
    );
    expect(specError('[{"type": "copy"}]')).toBe(
      'job.json: [0].type: is string "copy" (expected "transfer", "mkdir" or "remove")',
    );
    const t = (over: object) =>
      JSON.stringify([
        { type: 'mkdir', target: { site_label: 's', url: 'file:///x' } },
        {
          type: 'transfer',
          lfn: 'f',
          src_urls: [{ site_label: 's', url: 'file:///a' }],
          dest_urls: [{ site_label: 's', url: 'file:///b' }],
          ...over,
        },
      ]);
    expect(specError(t({ src_urls: [] }))).toBe(
      'job.json: [1].src_urls (lfn "f"): is an array (expected a non-empty array)',
    );
    expect(specError(t({ src_urls: [{ site_label: 's' }] }))).toBe(
      'job.json: [1].src_urls[0].url (lfn "f"): missing (expected a string)',
    );
    expect(specError(t({ src_urls: [{ url: 'file:///a', checksum: { sha256: 'xyz' } }] }))).toMatch(
      /\[1\]\.src_urls\[0\]\.checksum \(lfn "f"\): is \{"sha256":"xyz"\} \(expected \{"sha256": "<64 hex digits>"\}\)/,
    );
    expect(specError(t({ dest_urls: [{ url: 'file:///b', checksum: { sha256: SUM } }] }))).toMatch(
      /dest_urls\[0\]\.checksum .*not allowed here/,
    );
    expect(
      specError(
        t({
          dest_urls: [
            { url: 'file:///b', site_label: 'a' },
            { url: 'file:///c', site_label: 'a' },
          ],
        }),
      ),
    ).toMatch(/\[1\]\.dest_urls \(lfn "f"\): has 2 URLs \(expected exactly one destination\)/);
    expect(specError(t({ linkage: 'sideways' }))).toMatch(/\[1\]\.linkage .*"input", "output" or "inter"/);
    expect(specError(t({ lfn: 3 }))).toBe('job.json: [1].lfn: is number 3 (expected a non-empty string)');
    expect(specError('[{"type": "remove", "target": {"url": "file:///x"}, "recursive": "yes"}]')).toMatch(
      /\[0\]\.recursive: is string "yes" \(expected true or false\)/,
    );
    expect(specError('[{"type": "mkdir"}]')).toMatch(/\[0\]\.target: is undefined/);
  });
});

describe('readSpecFile', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(() => cleanup());

  it('reads a file or standard input, and names a missing file', async () => {
    const path = join(dir, 'spec.json');
    await writeFile(path, '[{"type": "mkdir", "target": {"site_label": "a", "url": "file:///x"}}]');
    expect(await readSpecFile(path)).toHaveLength(1);
    expect(await readSpecFile('-', Readable.from(['[', ']']))).toEqual([]);
    await expect(readSpecFile('-', Readable.from(['[1']))).rejects.toThrow(/^<stdin>:1:3: invalid JSON/);
    await expect(readSpecFile(join(dir, 'nope.json'))).rejects.toThrow(
      /^cannot read the spec: .*nope\.json: no such file or directory \(ENOENT\) \(expected a JSON file\)$/,
    );
  });
});

describe('specFromPlanJob', () => {
  it('turns plan.yml transfers, create-dir and cleanup targets into spec entries', () => {
    const stageIn = specFromPlanJob({
      name: 'stage_in_local_a_0_0',
      kind: 'stage-in',
      transfers: [
        {
          lfn: 'raw',
          linkage: 'input',
          sources: [
            { site: 'a', url: 'file:///a/raw', checksum: { sha256: SUM } },
            { site: 'web', url: 'https://h/raw' },
          ],
          dest: { site: 'a', url: 'file:///scratch/raw' },
        },
      ],
    });
    expect(stageIn).toEqual([
      {
        type: 'transfer',
        lfn: 'raw',
        linkage: 'input',
        src_urls: [
          { site_label: 'a', url: 'file:///a/raw', checksum: { sha256: SUM } },
          { site_label: 'web', url: 'https://h/raw' },
        ],
        dest_urls: [{ site_label: 'a', url: 'file:///scratch/raw' }],
      },
    ]);
    // what the engine writes is what the transfer command reads
    expect(parseSpec(formatSpec(stageIn))).toEqual(stageIn);
    expect(specFromPlanJob({ kind: 'create-dir', targets: [{ site: 'a', url: 'file:///w' }] })).toEqual([
      { type: 'mkdir', target: { site_label: 'a', url: 'file:///w' } },
    ]);
    expect(
      specFromPlanJob({ kind: 'cleanup', recursive: true, targets: [{ site: 'a', url: 'file:///w' }] }),
    ).toEqual([{ type: 'remove', target: { site_label: 'a', url: 'file:///w' }, recursive: true }]);
    expect(specFromPlanJob({ kind: 'cleanup', targets: [{ site: 'a', url: 'file:///w/f' }] })).toEqual([
      { type: 'remove', target: { site_label: 'a', url: 'file:///w/f' }, recursive: false },
    ]);
    expect(specFromPlanJob({ kind: 'stage-out' })).toEqual([]);
    expect(() =>
      specFromPlanJob({ name: 'j', kind: 'compute', targets: [{ site: 'a', url: 'file:///w' }] }),
    ).toThrow('plan job "j": targets on a compute job (expected a create-dir or cleanup job)');
  });
});

describe('options and backoff', () => {
  it('parses command line values and names the bad flag', () => {
    expect(parseTransferOptions({ attempts: '5', backoffMs: '10', jobs: '2', integrity: 'full' })).toEqual({
      attempts: 5,
      backoffMs: 10,
      jobs: 2,
      integrity: 'full',
    });
    expect(() => parseTransferOptions({ attempts: 'x' })).toThrow(
      '--attempts is "x" (expected a non-negative integer)',
    );
    expect(() => parseTransferOptions({ attempts: '0' })).toThrow(
      /^--attempts is 0 \(expected an integer from 1 to 100\)$/,
    );
    expect(() => parseTransferOptions({ jobs: '5000' })).toThrow(/^--jobs is 5000/);
    expect(() => parseTransferOptions({ backoffMs: '-1' })).toThrow(/^--backoff-ms is "-1"/);
    expect(() => parseTransferOptions({ integrity: 'some' })).toThrow(
      '--integrity is "some" (expected none, verify, full, nosymlink)',
    );
    expect(resolveOptions()).toMatchObject({
      attempts: 3,
      backoffMs: 1000,
      backoffFactor: 2,
      jobs: 4,
      integrity: 'verify',
    });
  });

  it('maps pegasus.integrity.checking', () => {
    expect(integrityFromProperty(undefined)).toBe('full');
    expect(integrityFromProperty('none')).toBe('none');
    expect(integrityFromProperty(' NoSymlink ')).toBe('nosymlink');
    expect(() => integrityFromProperty('half')).toThrow(/pegasus\.integrity\.checking is "half"/);
  });

  it('grows the delay by the factor, within the jitter, capped', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 1000, 2, 0, Math.random))).toEqual([
      1000, 2000, 4000, 8000,
    ]);
    expect(backoffDelay(1, 1000, 2, 0.2, () => 0)).toBe(800);
    expect(backoffDelay(1, 1000, 2, 0.2, () => 1)).toBe(1200);
    expect(backoffDelay(40, 1000, 2, 0, Math.random)).toBe(MAX_BACKOFF_MS);
  });
});
