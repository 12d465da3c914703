import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type LiteSpec, runLiteJob, SpecError, validateLiteSpec } from '../src/index.js';
import { httpServer, tempDir } from './helpers.js';

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

const quiet = { log: () => {}, attempts: 1, backoffMs: 1 };

async function setup(): Promise<{ staging: string; scratch: string; spec: LiteSpec }> {
  const t = await tempDir();
  cleanup = t.cleanup;
  const staging = join(t.dir, 'staging');
  const scratch = join(t.dir, 'scratch');
  await mkdir(join(staging, 'sub'), { recursive: true });
  await mkdir(scratch);
  await writeFile(join(staging, 'a.txt'), 'alpha\n');
  await writeFile(join(staging, 'sub', 'b.txt'), 'beta\n');
  const url = (lfn: string) => [{ site_label: 'staging', url: `file://${join(staging, lfn)}` }];
  const spec = validateLiteSpec(
    {
      job: 'j1',
      scratch,
      inputs: [
        { lfn: 'a.txt', src_urls: url('a.txt') },
        { lfn: 'sub/b.txt', src_urls: url('sub/b.txt') },
      ],
      outputs: [{ lfn: 'out/c.txt', dest_urls: url('out/c.txt') }],
    },
    'j1.json',
  );
  return { staging, scratch, spec };
}

describe('runLiteJob', () => {
  it('runs the task in a fresh scratch dir with its inputs, pushes the outputs back and removes the dir', async () => {
    const { staging, scratch, spec } = await setup();
    let seen: string[] = [];
    let ranIn = '';
    const r = await runLiteJob(
      spec,
      async (dir) => {
        ranIn = dir;
        seen = (await readdir(dir, { recursive: true })).sort();
        await mkdir(join(dir, 'out'));
        const a = await readFile(join(dir, 'a.txt'), 'utf8');
        await writeFile(join(dir, 'out', 'c.txt'), `${a}gamma\n`);
        return 0;
      },
      quiet,
    );
    expect(r.exitCode).toBe(0);
    expect(ranIn.startsWith(`${scratch}/pegasus.`)).toBe(true);
    expect(seen).toEqual(['a.txt', 'sub', 'sub/b.txt']);
    expect(await readFile(join(staging, 'out', 'c.txt'), 'utf8')).toBe('alpha\ngamma\n');
    expect(existsSync(ranIn)).toBe(false);
    expect(await readdir(scratch)).toEqual([]);
  });

  it('a failed task: its exit code, no outputs pushed, the scratch dir removed', async () => {
    const { staging, scratch, spec } = await setup();
    const r = await runLiteJob(
      spec,
      async (dir) => {
        await mkdir(join(dir, 'out'));
        await writeFile(join(dir, 'out', 'c.txt'), 'partial');
        return 7;
      },
      quiet,
    );
    expect(r.exitCode).toBe(7);
    expect(r.stageOut).toBeUndefined();
    expect(existsSync(join(staging, 'out', 'c.txt'))).toBe(false);
    expect(await readdir(scratch)).toEqual([]);
  });

  it('a missing input: the task never runs, exit 1, one line naming the lfn', async () => {
    const { scratch, spec } = await setup();
    spec.inputs[0].src_urls = [{ site_label: 'staging', url: `file://${scratch}/../staging/nope` }];
    const lines: string[] = [];
    let ran = false;
    const r = await runLiteJob(
      spec,
      async () => {
        ran = true;
        return 0;
      },
      { ...quiet, log: (l) => lines.push(l) },
    );
    expect(r.exitCode).toBe(1);
    expect(ran).toBe(false);
    expect(lines.some((l) => l.startsWith('lite: j1: stage-in failed: lfn "a.txt"'))).toBe(true);
    expect(await readdir(scratch)).toEqual([]);
  });

  it('a task that does not write a declared output fails (exit 1)', async () => {
    const { spec } = await setup();
    const lines: string[] = [];
    const r = await runLiteJob(spec, async () => 0, { ...quiet, log: (l) => lines.push(l) });
    expect(r.exitCode).toBe(1);
    expect(lines.some((l) => l.includes('stage-out failed: lfn "out/c.txt"'))).toBe(true);
  });
});

describe('runLiteJob: symlinked inputs (pegasus.transfer.links)', () => {
  it('links an input on this machine into the scratch dir instead of copying it', async () => {
    const { staging, spec } = await setup();
    spec.inputs[0].symlink = true;
    let link = '';
    let copied = false;
    const r = await runLiteJob(
      spec,
      async (dir) => {
        link = (await lstat(join(dir, 'a.txt'))).isSymbolicLink() ? await readlink(join(dir, 'a.txt')) : '';
        copied = (await lstat(join(dir, 'sub', 'b.txt'))).isFile();
        await mkdir(join(dir, 'out'));
        await writeFile(join(dir, 'out', 'c.txt'), 'c');
        return 0;
      },
      quiet,
    );
    expect(r.exitCode).toBe(0);
    expect(link).toBe(join(staging, 'a.txt'));
    expect(copied).toBe(true);
    expect(r.stageIn?.entries[0].action).toBe('symlink');
    // removing the scratch dir removed the link, never the file it points to
    expect(await readFile(join(staging, 'a.txt'), 'utf8')).toBe('alpha\n');
  });

  it('falls back to a copy when the file cannot be linked (an http source)', async () => {
    const { spec } = await setup();
    const server = await httpServer((_req, res) => {
      res.end('from the web\n');
    });
    try {
      spec.inputs[0] = {
        lfn: 'a.txt',
        symlink: true,
        src_urls: [{ site_label: 'web', url: `${server.url}/a.txt` }],
      };
      let content = '';
      let isLink = true;
      const r = await runLiteJob(
        spec,
        async (dir) => {
          isLink = (await lstat(join(dir, 'a.txt'))).isSymbolicLink();
          content = await readFile(join(dir, 'a.txt'), 'utf8');
          await mkdir(join(dir, 'out'));
          await writeFile(join(dir, 'out', 'c.txt'), 'c');
          return 0;
        },
        quiet,
      );
      expect(r.exitCode).toBe(0);
      expect(isLink).toBe(false);
      expect(content).toBe('from the web\n');
      expect(r.stageIn?.entries[0]).toMatchObject({ ok: true, action: 'download', index: 0 });
      expect(r.stageIn?.ok).toBe(true);
    } finally {
      await server.close();
    }
  });
});

describe('runLiteJob: a staged executable', () => {
  it('is made executable in the scratch dir (a download is not)', async () => {
    const { spec } = await setup();
    const server = await httpServer((_req, res) => {
      res.end('#!/bin/sh\n');
    });
    try {
      spec.inputs.push({
        lfn: 'tool',
        executable: true,
        src_urls: [{ site_label: 'web', url: `${server.url}/tool` }],
      });
      let mode = 0;
      const r = await runLiteJob(
        spec,
        async (dir) => {
          mode = (await lstat(join(dir, 'tool'))).mode & 0o777;
          await mkdir(join(dir, 'out'));
          await writeFile(join(dir, 'out', 'c.txt'), 'c');
          return 0;
        },
        quiet,
      );
      expect(r.exitCode).toBe(0);
      expect(mode).toBe(0o755);
    } finally {
      await server.close();
    }
  });
});

describe('validateLiteSpec', () => {
  const bad = (v: unknown) => () => validateLiteSpec(v, 'x.json');
  it('names the file, the key and what was expected', () => {
    expect(bad([])).toThrow('x.json: top level: is not an object (expected {"job", "inputs", "outputs"})');
    expect(bad({ job: 'j', inputs: [], outputs: {} })).toThrow('x.json: outputs: is {} (expected an array)');
    expect(bad({ job: 'j', scratch: 'rel', inputs: [], outputs: [] })).toThrow(
      'x.json: scratch: is "rel" (expected an absolute path)',
    );
    expect(bad({ job: 'j', inputs: [{ lfn: '../x', src_urls: [] }], outputs: [] })).toThrow(
      'x.json: inputs[0].lfn: "../x" leaves the scratch dir (expected a relative path without "..")',
    );
    expect(bad({ job: 'j', inputs: [], outputs: [], stdout: '/etc/passwd' })).toThrow(SpecError);
    expect(bad({ job: 'j', inputs: [{ lfn: 'a', symlink: 'yes', src_urls: [] }], outputs: [] })).toThrow(
      'x.json: inputs[0].symlink: is "yes" (expected true or false)',
    );
    expect(bad({ job: 'j', inputs: [{ lfn: 'a', src_urls: [] }], outputs: [] })).toThrow(
      'x.json: inputs[0].src_urls (lfn "a"): is an array (expected a non-empty array)',
    );
    expect(bad({ job: 'j', inputs: [], outputs: [], threads: 0 })).toThrow(
      'x.json: threads: is 0 (expected an integer from 1 to 1024)',
    );
  });
});

describe('runLiteJob: threads (pegasus transfer.threads)', () => {
  it('pulls at most `threads` inputs at once', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    let running = 0;
    let most = 0;
    const s = await httpServer(async (_req, res) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 30));
      running--;
      res.end('data');
    });
    try {
      for (const threads of [1, 3]) {
        most = 0;
        const spec = validateLiteSpec(
          {
            job: 'j',
            scratch: t.dir,
            threads,
            inputs: Array.from({ length: 6 }, (_, i) => ({
              lfn: `f${i}`,
              src_urls: [{ site_label: 'web', url: `${s.url}/f${i}` }],
            })),
            outputs: [],
          },
          'j.json',
        );
        const r = await runLiteJob(spec, async () => 0, { ...quiet, jobs: 6 });
        expect(r.exitCode).toBe(0);
        expect(most, `threads ${threads}`).toBeLessThanOrEqual(threads);
      }
      expect(most).toBeGreaterThan(1);
    } finally {
      await s.close();
    }
  });
});
