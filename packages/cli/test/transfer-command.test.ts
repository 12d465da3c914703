import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerTransferCommand } from '../src/transfer-command.js';
import { type CommandRun, runCommand } from './command-harness.js';

/** Runs `pegasus-ts transfer ARGS` in-process (stdin for `--spec -`); returns exit code and output. */
function transfer(args: string[], stdin?: string): Promise<CommandRun> {
  return runCommand('transfer', args, (program, ctx) =>
    registerTransferCommand(program, ctx, stdin === undefined ? undefined : Readable.from([stdin])),
  );
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'transfer-cli-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const entry = (lfn: string, src: string, dest: string) => ({
  type: 'transfer',
  lfn,
  src_urls: [{ site_label: 'local', url: `file://${src}` }],
  dest_urls: [{ site_label: 'local', url: `file://${dest}` }],
});

describe('pegasus-ts transfer', () => {
  it('runs a spec file, prints a summary and writes the report (exit 0)', async () => {
    await writeFile(join(dir, 'a'), 'aaa');
    const spec = join(dir, 'spec.json');
    await writeFile(
      spec,
      JSON.stringify([
        entry('a', join(dir, 'a'), join(dir, 'out', 'a')),
        { type: 'mkdir', target: { site_label: 'l', url: `file://${dir}/m` } },
      ]),
    );
    const report = join(dir, 'report.json');
    const r = await transfer(['--spec', spec, '--integrity', 'full', '--report', report, '--jobs', '2']);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toMatch(/^transfer: 2 entries, 2 ok, 0 failed, 3 bytes in \d/);
    expect(await readFile(join(dir, 'out', 'a'), 'utf8')).toBe('aaa');
    const rep = JSON.parse(await readFile(report, 'utf8'));
    expect(rep.entries[0]).toMatchObject({
      lfn: 'a',
      ok: true,
      sha256: '9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0',
    });
  });

  it('reads the spec from standard input by default', async () => {
    await writeFile(join(dir, 'a'), 'x');
    const r = await transfer([], JSON.stringify([entry('a', join(dir, 'a'), join(dir, 'b'))]));
    expect(r.code).toBe(0);
    expect(await readFile(join(dir, 'b'), 'utf8')).toBe('x');
  });

  it('exits 1 with one line per failed entry and per failed attempt', async () => {
    const spec = join(dir, 'spec.json');
    await writeFile(spec, JSON.stringify([entry('gone', join(dir, 'nope'), join(dir, 'b'))]));
    const r = await transfer(['--spec', spec, '--attempts', '2', '--backoff-ms', '1']);
    expect(r.code).toBe(1);
    const lines = r.err.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^transfer: lfn "gone" attempt 1\/2 failed: .*retrying/);
    expect(lines[2]).toMatch(
      new RegExp(
        `^failed: lfn "gone" file://${join(dir, 'nope')} -> file://${join(dir, 'b')}: source .*no such file`,
      ),
    );
    expect(r.out).toMatch(/0 ok, 1 failed/);
    expect(await readdir(dir)).toEqual(['spec.json']);
  });

  it('exits 2 for a bad spec or bad options, in one line', async () => {
    const spec = join(dir, 'spec.json');
    await writeFile(spec, '[\n  {"type": "mkdir"\n]');
    const bad = await transfer(['--spec', spec]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(new RegExp(`^pegasus-ts transfer: ${spec}:3:1: invalid JSON: .*\\n$`));
    const shape = await transfer([], '[{"type": "copy"}]');
    expect(shape.err).toBe(
      'pegasus-ts transfer: <stdin>: [0].type: is string "copy" (expected "transfer", "mkdir" or "remove")\n',
    );
    const missing = await transfer(['--spec', join(dir, 'none.json')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/cannot read the spec: .*none\.json: no such file/);
    const opt = await transfer(['--spec', spec, '--attempts', 'many']);
    expect(opt).toMatchObject({
      code: 2,
      err: 'pegasus-ts transfer: --attempts is "many" (expected a non-negative integer)\n',
    });
    const integrity = await transfer(['--integrity', 'half'], '[]');
    expect(integrity.code).toBe(2);
    expect(integrity.err).toMatch(/--integrity is "half"/);
  });
});

describe('pegasus-ts transfer, the real program', () => {
  it('on SIGTERM stops a transfer in flight, leaves no temp file and exits 143', async () => {
    // a server that takes the request and never answers
    let requested: () => void = () => {};
    const gotRequest = new Promise<void>((r) => {
      requested = r;
    });
    const server = createServer(() => requested());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const spec = join(dir, 'spec.json');
      const out = join(dir, 'out');
      await writeFile(
        spec,
        JSON.stringify([
          {
            type: 'transfer',
            lfn: 'slow',
            src_urls: [{ site_label: 'web', url: `http://127.0.0.1:${port}/slow` }],
            dest_urls: [{ site_label: 'local', url: `file://${out}/slow` }],
          },
        ]),
      );
      const bin = fileURLToPath(new URL('../bin/pegasus-ts.js', import.meta.url));
      const child = spawn(process.execPath, [bin, 'transfer', '--spec', spec], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      const done = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      await gotRequest;
      child.kill('SIGTERM');
      expect(await done).toBe(143);
      expect(stderr).toMatch(/slow/);
      const left = await readdir(out).catch(() => [] as string[]);
      expect(left).toEqual([]);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
