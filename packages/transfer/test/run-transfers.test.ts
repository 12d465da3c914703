import { lstat, mkdir, readdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTempName } from '../src/internal/atomic-write.js';
import { failureLine, summaryLine, writeReport } from '../src/report.js';
import { runTransfers } from '../src/run-transfers.js';
import type { SpecEntry, SpecUrl } from '../src/spec.js';
import { httpServer, logSink, sha256, type TestServer, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
const servers: TestServer[] = [];
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  await cleanup();
});

const fast = { backoffMs: 1, jitter: 0 };
const at = (path: string, site = 'local'): SpecUrl => ({ site_label: site, url: `file://${path}` });
const transfer = (lfn: string, src: SpecUrl | SpecUrl[], dest: SpecUrl): SpecEntry => ({
  type: 'transfer',
  lfn,
  linkage: 'input',
  src_urls: Array.isArray(src) ? src : [src],
  dest_urls: [dest],
});

async function serve(handler: Parameters<typeof httpServer>[0]): Promise<TestServer> {
  const s = await httpServer(handler);
  servers.push(s);
  return s;
}

/** Every name under `d`, recursively (to look for temp leftovers). */
async function allNames(d: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(d, { withFileTypes: true })) {
    out.push(e.name);
    if (e.isDirectory()) out.push(...(await allNames(join(d, e.name))));
  }
  return out;
}

describe('file and symlink URLs', () => {
  it('copies into new directories, keeps the mode, reports bytes and duration', async () => {
    await writeFile(join(dir, 'in.dat'), 'hello world\n', { mode: 0o750 });
    const dest = join(dir, 'deep', 'er', 'out.dat');
    const r = await runTransfers([transfer('in.dat', at(join(dir, 'in.dat')), at(dest, 'x'))], fast);
    expect(r.ok).toBe(true);
    expect(await readFile(dest, 'utf8')).toBe('hello world\n');
    expect((await stat(dest)).mode & 0o777).toBe(0o750);
    const e = r.entries[0];
    expect(e).toMatchObject({ lfn: 'in.dat', ok: true, action: 'copy', bytes: 12, attempts: 1 });
    expect(e.source).toBe(`file://${join(dir, 'in.dat')}`);
    expect(e.sha256).toBeUndefined();
    expect(e.durationMs).toBeGreaterThanOrEqual(0);
    expect(r).toMatchObject({ total: 1, succeeded: 1, failed: 0, bytes: 12 });
    expect(summaryLine(r)).toMatch(/^transfer: 1 entries, 1 ok, 0 failed, 12 bytes in \d+\.\d+ s$/);
    expect((await allNames(dir)).filter(isTempName)).toEqual([]);
  });

  it('overwrites an existing destination; the same path as source is a no-op', async () => {
    const p = join(dir, 'f');
    await writeFile(p, 'new');
    await writeFile(join(dir, 'g'), 'old');
    const r = await runTransfers(
      [
        transfer('g', at(p), at(join(dir, 'g'))),
        transfer('f', at(p), { site_label: 'l', url: `file://localhost${p}` }),
      ],
      { ...fast, integrity: 'full' },
    );
    expect(r.ok).toBe(true);
    expect(await readFile(join(dir, 'g'), 'utf8')).toBe('new');
    expect(r.entries[1]).toMatchObject({ action: 'none', bytes: 3, sha256: sha256('new') });
    expect(await readFile(p, 'utf8')).toBe('new');
  });

  it('symlinks a symlink:// destination to the source path, replacing what was there', async () => {
    const src = join(dir, 'data.bin');
    await writeFile(src, 'abc');
    const dest = join(dir, 'work', 'data.bin');
    await mkdir(join(dir, 'work'));
    await writeFile(dest, 'stale');
    const entry = transfer('data.bin', at(src), { site_label: 'x', url: `symlink://${dest}` });
    const r = await runTransfers([entry], fast);
    expect(r.ok).toBe(true);
    expect((await lstat(dest)).isSymbolicLink()).toBe(true);
    expect(await readlink(dest)).toBe(src);
    expect(r.entries[0]).toMatchObject({ action: 'symlink', bytes: 3 });
    // again: already linked
    const again = await runTransfers([entry], fast);
    expect(again.entries[0].action).toBe('none');
  });

  it('falls back to the next source when the first is missing', async () => {
    await writeFile(join(dir, 'second'), 'two');
    const dest = join(dir, 'out');
    const r = await runTransfers(
      [transfer('f', [at(join(dir, 'missing')), at(join(dir, 'second'))], at(dest))],
      fast,
    );
    expect(r.ok).toBe(true);
    expect(r.entries[0].source).toBe(`file://${join(dir, 'second')}`);
    expect(r.entries[0].attempts).toBe(1);
    expect(await readFile(dest, 'utf8')).toBe('two');
  });

  it('fails after all attempts, one log line per attempt, naming the missing source', async () => {
    const { lines, log } = logSink();
    const r = await runTransfers([transfer('gone', at(join(dir, 'nope')), at(join(dir, 'out')))], {
      ...fast,
      attempts: 3,
      log,
    });
    expect(r.ok).toBe(false);
    expect(r.failed).toBe(1);
    const e = r.entries[0];
    expect(e.attempts).toBe(3);
    expect(e.error).toMatch(/source .*nope: no such file or directory/);
    expect(lines.filter((l) => l.includes('attempt'))).toHaveLength(3);
    expect(lines[0]).toMatch(/^transfer: lfn "gone" attempt 1\/3 failed: .*retrying in/);
    expect(lines[2]).toMatch(/attempt 3\/3 failed: .*giving up$/);
    expect(failureLine(e)).toBe(
      `failed: lfn "gone" file://${join(dir, 'nope')} -> file://${join(dir, 'out')}: ${e.error}`,
    );
  });

  it('rejects unknown schemes and http destinations without retrying', async () => {
    const { lines, log } = logSink();
    const r = await runTransfers(
      [
        transfer('a', { site_label: 's', url: 'gsiftp://host/a' }, at(join(dir, 'a'))),
        transfer('b', at(join(dir, 'a')), { site_label: 's', url: 'http://127.0.0.1:1/b' }),
        transfer('c', { site_label: 's', url: 'file://otherhost/c' }, at(join(dir, 'c'))),
      ],
      { ...fast, log },
    );
    expect(r.entries.map((e) => e.attempts)).toEqual([1, 1, 1]);
    expect(r.entries[0].error).toMatch(/unsupported URL scheme "gsiftp" in gsiftp:\/\/host\/a/);
    expect(r.entries[1].error).toMatch(/cannot write to http:\/\/127\.0\.0\.1:1\/b/);
    expect(r.entries[2].error).toMatch(/does not name an absolute local path/);
    expect(lines.every((l) => l.endsWith('giving up'))).toBe(true);
  });
});

describe('http and https URLs', () => {
  it('downloads into a new directory', async () => {
    const body = 'x'.repeat(300_000);
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(body);
    });
    const dest = join(dir, 'new', 'f.txt');
    const r = await runTransfers(
      [transfer('f.txt', { site_label: 'web', url: `${s.url}/f.txt` }, at(dest))],
      fast,
    );
    expect(r.ok).toBe(true);
    expect(await readFile(dest, 'utf8')).toBe(body);
    expect(r.entries[0]).toMatchObject({ action: 'download', bytes: body.length, source: `${s.url}/f.txt` });
  });

  it('fails on 404 naming the status', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(404);
      res.end('no');
    });
    const r = await runTransfers(
      [transfer('f', { site_label: 'web', url: `${s.url}/f` }, at(join(dir, 'f')))],
      {
        ...fast,
        attempts: 2,
        log: () => {},
      },
    );
    expect(r.ok).toBe(false);
    expect(r.entries[0].error).toMatch(/HTTP status 404 Not Found/);
    expect(s.hits.get('/f')).toBe(2);
    expect(await readdir(dir)).toEqual([]);
  });

  it('retries with backoff: a server that fails twice then succeeds', async () => {
    const s = await serve((_req, res, hit) => {
      if (hit <= 2) {
        res.writeHead(503);
        res.end();
      } else {
        res.writeHead(200);
        res.end('finally');
      }
    });
    const { lines, log } = logSink();
    const r = await runTransfers(
      [transfer('f', { site_label: 'web', url: `${s.url}/f` }, at(join(dir, 'f')))],
      {
        attempts: 3,
        backoffMs: 5,
        log,
      },
    );
    expect(r.ok).toBe(true);
    expect(r.entries[0].attempts).toBe(3);
    expect(s.hits.get('/f')).toBe(3);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/attempt 1\/3 failed: HTTP status 503.*retrying in 0\.00\d s/);
    expect(await readFile(join(dir, 'f'), 'utf8')).toBe('finally');
  });

  it('never shows a partial download under the final name, and leaves no temp file', async () => {
    const dest = join(dir, 'big.dat');
    let seenDuring: string[] = [];
    const s = await serve(async (_req, res) => {
      res.writeHead(200, { 'content-length': '1000000' });
      res.write(Buffer.alloc(400_000, 1));
      // wait until the client has written something, then look at the directory
      const until = Date.now() + 10_000;
      while (Date.now() < until) {
        seenDuring = await readdir(dir);
        if (seenDuring.some(isTempName)) break;
        await new Promise((r) => setTimeout(r, 2));
      }
      res.destroy();
    });
    const r = await runTransfers(
      [transfer('big.dat', { site_label: 'web', url: `${s.url}/big` }, at(dest))],
      {
        ...fast,
        attempts: 1,
        log: () => {},
      },
    );
    expect(r.ok).toBe(false);
    expect(seenDuring.some(isTempName)).toBe(true);
    expect(seenDuring).not.toContain('big.dat');
    expect(await readdir(dir)).toEqual([]);
  });

  it('bounds the number of entries running at once', async () => {
    let running = 0;
    let most = 0;
    let arrived = 0;
    const s = await serve(async (_req, res) => {
      running++;
      arrived++;
      most = Math.max(most, running);
      // hold each answer until a full batch of 3 is in flight (the last batch has 2), then a bit
      // longer so that a 4th concurrent request, if the bound were broken, would be seen
      const until = Date.now() + 10_000;
      while (running < 3 && arrived < 7 && Date.now() < until) await new Promise((r) => setTimeout(r, 2));
      await new Promise((r) => setTimeout(r, 10));
      running--;
      res.end('ok');
    });
    const entries = Array.from({ length: 8 }, (_, i) =>
      transfer(`f${i}`, { site_label: 'web', url: `${s.url}/f${i}` }, at(join(dir, `f${i}`))),
    );
    const { lines, log } = logSink();
    const r = await runTransfers(entries, { ...fast, jobs: 3, progressEvery: 4, log });
    expect(r.ok).toBe(true);
    expect(most).toBe(3);
    expect(lines.some((l) => /^transfer: progress 4\/8 entries, 0 failed, 8 bytes/.test(l))).toBe(true);
  });
});

describe('integrity', () => {
  it('verifies a matching checksum and reports the sum', async () => {
    await writeFile(join(dir, 'src'), 'payload');
    const r = await runTransfers(
      [
        transfer(
          'f',
          { ...at(join(dir, 'src')), checksum: { sha256: sha256('payload') } },
          at(join(dir, 'o', 'f')),
        ),
      ],
      fast,
    );
    expect(r.ok).toBe(true);
    expect(r.entries[0].sha256).toBe(sha256('payload'));
  });

  it('fails on a mismatch naming both sums, the lfn and the URL; the bad file is gone', async () => {
    const s = await serve((_req, res) => {
      res.end('corrupted');
    });
    const wrong = sha256('what it should be');
    const url = `${s.url}/f`;
    const dest = join(dir, 'f');
    const r = await runTransfers(
      [transfer('f.dat', { site_label: 'web', url, checksum: { sha256: wrong } }, at(dest))],
      {
        ...fast,
        attempts: 2,
        log: () => {},
      },
    );
    expect(r.ok).toBe(false);
    const err = r.entries[0].error ?? '';
    expect(err).toContain(wrong);
    expect(err).toContain(sha256('corrupted'));
    expect(err).toContain('"f.dat"');
    expect(err).toContain(url);
    expect(s.hits.get('/f')).toBe(2);
    expect(await readdir(dir)).toEqual([]);
  });

  it('falls back to another source on a mismatch; a bad symlink source leaves no link', async () => {
    await writeFile(join(dir, 'bad'), 'bad');
    await writeFile(join(dir, 'good'), 'good');
    const sum = { sha256: sha256('good') };
    const r = await runTransfers(
      [
        transfer(
          'f',
          [
            { ...at(join(dir, 'bad')), checksum: sum },
            { ...at(join(dir, 'good')), checksum: sum },
          ],
          at(join(dir, 'f')),
        ),
        transfer(
          'l',
          { ...at(join(dir, 'bad')), checksum: sum },
          { site_label: 'x', url: `symlink://${join(dir, 'l')}` },
        ),
      ],
      { ...fast, attempts: 1, log: () => {} },
    );
    expect(r.entries[0]).toMatchObject({
      ok: true,
      source: `file://${join(dir, 'good')}`,
      sha256: sum.sha256,
    });
    expect(r.entries[1].ok).toBe(false);
    expect((await readdir(dir)).sort()).toEqual(['bad', 'f', 'good']);
  });

  it('integrity full computes every sum; none skips even the given ones', async () => {
    await writeFile(join(dir, 'a'), 'aaa');
    await writeFile(join(dir, 'b'), 'bbb');
    const s = await serve((_req, res) => {
      res.end('web');
    });
    const entries = [
      transfer('a', at(join(dir, 'a')), at(join(dir, 'o', 'a'))),
      transfer('b', at(join(dir, 'b')), { site_label: 'x', url: `symlink://${join(dir, 'o', 'b')}` }),
      transfer('w', { site_label: 'web', url: `${s.url}/w` }, at(join(dir, 'o', 'w'))),
    ];
    const full = await runTransfers(entries, { ...fast, integrity: 'full' });
    expect(full.entries.map((e) => e.sha256)).toEqual([sha256('aaa'), sha256('bbb'), sha256('web')]);
    const noLinks = await runTransfers(entries, { ...fast, integrity: 'nosymlink' });
    expect(noLinks.entries.map((e) => e.sha256 !== undefined)).toEqual([true, false, true]);
    const verifyOnly = await runTransfers(entries, fast);
    expect(verifyOnly.entries.every((e) => e.sha256 === undefined)).toBe(true);
    const none = await runTransfers(
      [transfer('a', { ...at(join(dir, 'a')), checksum: { sha256: sha256('x') } }, at(join(dir, 'o', 'n')))],
      { ...fast, integrity: 'none' },
    );
    expect(none.entries[0]).toMatchObject({ ok: true });
    expect(none.entries[0].sha256).toBeUndefined();
  });
});

describe('mkdir and remove', () => {
  it('creates directories (existing is fine) and removes files, trees and missing targets', async () => {
    const d = join(dir, 'a', 'b', 'c');
    await mkdir(join(dir, 'tree', 'sub'), { recursive: true });
    await writeFile(join(dir, 'tree', 'sub', 'x'), 'x');
    await writeFile(join(dir, 'file'), 'f');
    await mkdir(join(dir, 'empty'));
    await symlink(join(dir, 'tree'), join(dir, 'link'));
    const r = await runTransfers(
      [
        { type: 'mkdir', target: at(d) },
        { type: 'mkdir', target: at(d) },
        { type: 'remove', target: at(join(dir, 'file')), recursive: false },
        { type: 'remove', target: at(join(dir, 'missing')), recursive: false },
        { type: 'remove', target: at(join(dir, 'missing-tree')), recursive: true },
        { type: 'remove', target: at(join(dir, 'empty')), recursive: false },
        { type: 'remove', target: at(join(dir, 'link')), recursive: true },
      ],
      { ...fast, jobs: 1 },
    );
    expect(r.entries.filter((e) => !e.ok)).toEqual([]);
    expect((await stat(d)).isDirectory()).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['a', 'tree']);
    expect(await readFile(join(dir, 'tree', 'sub', 'x'), 'utf8')).toBe('x');
    const tree = await runTransfers(
      [{ type: 'remove', target: at(join(dir, 'tree')), recursive: true }],
      fast,
    );
    expect(tree.ok).toBe(true);
    expect(await readdir(dir)).toEqual(['a']);
  });

  it('fails to remove a non-empty directory without recursive, and mkdir over a file', async () => {
    await mkdir(join(dir, 'full'));
    await writeFile(join(dir, 'full', 'x'), 'x');
    await writeFile(join(dir, 'plain'), 'p');
    const r = await runTransfers(
      [
        { type: 'remove', target: at(join(dir, 'full')), recursive: false },
        { type: 'mkdir', target: at(join(dir, 'plain')) },
      ],
      { ...fast, attempts: 1, log: () => {} },
    );
    expect(r.entries[0].error).toMatch(/directory not empty/);
    expect(r.entries[1].error).toMatch(/plain: exists and is not a directory/);
    expect(failureLine(r.entries[1])).toMatch(/^failed: mkdir file:\/\/.*plain: /);
  });
});

describe('options, stop and report', () => {
  it('rejects bad option values', async () => {
    await expect(runTransfers([], { attempts: 0 })).rejects.toThrow(
      /attempts is 0 \(expected an integer from 1/,
    );
    await expect(runTransfers([], { jobs: 1.5 })).rejects.toThrow(/jobs is 1.5/);
    await expect(runTransfers([], { integrity: 'most' as never })).rejects.toThrow(/integrity is "most"/);
  });

  it('stops on abort: nothing new starts, the waiting entry gives up', async () => {
    const ac = new AbortController();
    const { log } = logSink();
    const entries: SpecEntry[] = [
      transfer('gone', at(join(dir, 'nope')), at(join(dir, 'o1'))),
      transfer('later', at(join(dir, 'nope')), at(join(dir, 'o2'))),
    ];
    const run = runTransfers(entries, {
      attempts: 5,
      backoffMs: 60_000,
      jobs: 1,
      log: (l) => {
        log(l);
        ac.abort();
      },
      signal: ac.signal,
    });
    const r = await run;
    expect(r.entries[0]).toMatchObject({ ok: false, attempts: 1, error: 'stopped' });
    expect(r.entries[1]).toMatchObject({ ok: false, attempts: 0 });
  });

  it('writes the report as JSON', async () => {
    await writeFile(join(dir, 'a'), 'a');
    const r = await runTransfers([transfer('a', at(join(dir, 'a')), at(join(dir, 'b')))], fast);
    const path = join(dir, 'rep', 'report.json');
    await writeReport(path, r);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(r);
  });
});
