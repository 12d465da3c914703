import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  listRegisteredWorkflows,
  masterDbPath,
  pegasusTsHome,
  registerWorkflow,
} from '../src/workflow-registry.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'service-registry-'));
});
afterAll(async () => {
  await chmod(join(dir, 'readonly'), 0o755).catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

describe('workflow registry (master database)', () => {
  it('lives in PEGASUS_TS_HOME, else ~/.pegasus-ts', () => {
    expect(masterDbPath({ PEGASUS_TS_HOME: '/x/y' })).toBe('/x/y/workflows.db');
    expect(pegasusTsHome({})).toMatch(/\/\.pegasus-ts$/);
  });

  it('registers a submit dir once, updates its last registration, lists newest first and by time', () => {
    const env = { PEGASUS_TS_HOME: join(dir, 'home') };
    expect(registerWorkflow(join(dir, 'a'), { env, now: 1000 })).toBe(true);
    expect(registerWorkflow(join(dir, 'b'), { env, now: 2000 })).toBe(true);
    expect(registerWorkflow(join(dir, 'a', '.'), { env, now: 3000 })).toBe(true);
    const all = listRegisteredWorkflows(masterDbPath(env));
    expect(all.map((w) => [w.id, w.submitDir, w.registered, w.lastSeen])).toEqual([
      [2, join(dir, 'b'), 2000, 2000],
      [1, join(dir, 'a'), 1000, 3000],
    ]);
    expect(listRegisteredWorkflows(masterDbPath(env), 1500).map((w) => w.id)).toEqual([2]);
    expect(listRegisteredWorkflows(join(dir, 'none', 'workflows.db'))).toEqual([]);
  });

  it.skipIf(process.getuid?.() === 0)('never fails the caller: an unwritable home warns once', async () => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'readonly'));
    await chmod(join(dir, 'readonly'), 0o555);
    const warnings: string[] = [];
    const env = { PEGASUS_TS_HOME: join(dir, 'readonly', 'home') };
    expect(registerWorkflow(join(dir, 'a'), { env, warn: (l) => warnings.push(l) })).toBe(false);
    expect(registerWorkflow(join(dir, 'b'), { env, warn: (l) => warnings.push(l) })).toBe(false);
    expect(warnings).toEqual([
      `warning: ${join(dir, 'readonly', 'home', 'workflows.db')}: cannot register the workflow for the service (EACCES)`,
    ]);
  });

  it('never fails the caller: a home that is a file warns', () => {
    const warnings: string[] = [];
    const env = { PEGASUS_TS_HOME: '/dev/null/home' };
    expect(registerWorkflow(join(dir, 'a'), { env, warn: (l) => warnings.push(l) })).toBe(false);
    // (warned at most once per process: the previous test may have used it up)
    expect(warnings.length).toBeLessThanOrEqual(1);
  });
});
