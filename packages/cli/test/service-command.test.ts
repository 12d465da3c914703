// `pegasus-ts service` and the registration by `plan`, through the real bin script (needs `tsc -b`).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/pegasus-ts.js', import.meta.url));
const KOTO = fileURLToPath(new URL('../../../examples/koto/build-workflow.mjs', import.meta.url));

function run(args: string[], env: Record<string, string>, cwd?: string) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const e = { ...process.env, ...env };
    delete e.PEGASUS_TS_DEBUG;
    execFile(process.execPath, [BIN, ...args], { cwd, env: e }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

let dir: string;
let env: Record<string, string>;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pegasus-ts-service-cli-'));
  env = { PEGASUS_TS_HOME: join(dir, 'home') };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pegasus-ts service', () => {
  it.each([
    [
      ['--host', '0.0.0.0', '--port', '0'],
      /^pegasus-ts service: refusing to listen on 0\.0\.0\.0 \(not loopback\) without TLS/,
    ],
    [['--port', '70000'], /^pegasus-ts service: --port 70000: expected an integer from 0 to 65535$/],
    [
      ['--host', '0.0.0.0', '--self-signed', '--token', 'short'],
      /^pegasus-ts service: the token must have at least 8 characters$/,
    ],
    [
      ['--tls-cert', '/nonexistent.pem', '--tls-key', '/nonexistent.key'],
      /^pegasus-ts service: \/nonexistent\.pem: cannot read the TLS certificate \(ENOENT\)$/,
    ],
  ])('refuses %j in one line, exit 2', async (args, message) => {
    const r = await run(['service', ...args], env);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(message);
  });

  it('serves until SIGTERM, then exits 0', async () => {
    const child = spawn(process.execPath, [BIN, 'service', '--port', '0'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    const t0 = Date.now();
    while (!/listening on (http:\/\/\S+)\//.test(out)) {
      if (Date.now() - t0 > 30_000 || child.exitCode !== null)
        throw new Error(`the service did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const url = /listening on (http:\/\/\S+)\//.exec(out)![1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${url}/api/v1/workflows`);
    expect(res.status).toBe(200);
    child.kill('SIGTERM');
    expect(await closed).toBe(0);
  });
});

describe('plan registers the submit dir', () => {
  it('in PEGASUS_TS_HOME, and never fails the plan when it cannot (one warning)', async () => {
    const wf = join(dir, 'koto');
    execFileSync(process.execPath, [KOTO, '--jobs', '2', '--out', wf, '--site', 'local']);
    const args = ['plan', '--dir', join(wf, 'submit'), '--sites', 'local', '-q', 'workflow.yml'];
    const ok = await run(args, env, wf);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toBe('');
    const { listRegisteredWorkflows } = await import('@pegasus-ts/service/registry');
    const rows = listRegisteredWorkflows(join(env.PEGASUS_TS_HOME, 'workflows.db'));
    expect(rows.map((r) => r.submitDir)).toEqual([ok.stdout.trim().split('\n').pop()]);

    const bad = await run(args, { PEGASUS_TS_HOME: '/dev/null/home' }, wf);
    expect(bad.code).toBe(0);
    expect(bad.stderr).toMatch(
      /^warning: \/dev\/null\/home\/workflows\.db: cannot register the workflow for the service \(\w+\)\n$/,
    );
    expect(bad.stdout.trim().split('\n').pop()).toMatch(/run0002$/);
  });
});
