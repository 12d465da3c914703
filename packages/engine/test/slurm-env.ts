// A real Slurm for the tests: use the one the environment points at (scripts/test.sh starts one
// and exports SLURM_CONF), else start it with scripts/slurm/start-slurm.sh (as root; idempotent,
// safe when several test files call it at once) and read SLURM_CONF from its env.sh.
// Without Slurm the tests skip with the reason, except under CI, where that is an error.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { slurmAvailable } from '../src/slurm/slurm-available.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const START = path.join(REPO, 'scripts/slurm/start-slurm.sh');

export interface SlurmTestEnv {
  /** why the Slurm tests are skipped; undefined when Slurm answers */
  skip?: string;
  /** environment for Slurm commands (SLURM_CONF set) */
  env: NodeJS.ProcessEnv;
}

function stateDir(): string {
  return process.env.PEGASUS_TS_SLURM_DIR ?? '/tmp/pegasus-ts-slurm';
}

function confFromEnvSh(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const m = /^export SLURM_CONF=(.*)$/m.exec(readFileSync(file, 'utf8'));
  return m ? m[1]!.trim().replace(/^'(.*)'$/, '$1') : undefined;
}

async function findSlurm(): Promise<SlurmTestEnv> {
  let env: NodeJS.ProcessEnv = { ...process.env };
  const first = await slurmAvailable({ env, timeoutMs: 5000 });
  if (first.available) return { env };
  if (!first.installed) return { skip: first.reason, env };
  if (process.getuid?.() !== 0) {
    return { skip: `${first.reason}; not root, so scripts/slurm/start-slurm.sh cannot start one`, env };
  }
  try {
    await promisify(execFile)('bash', [START], { env, timeout: 120_000 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    return { skip: `scripts/slurm/start-slurm.sh failed: ${(err.stderr || err.message).trim()}`, env };
  }
  const conf = confFromEnvSh(path.join(stateDir(), 'env.sh'));
  if (!conf) return { skip: `scripts/slurm/start-slurm.sh wrote no ${stateDir()}/env.sh`, env };
  env = { ...env, SLURM_CONF: conf };
  const again = await slurmAvailable({ env, timeoutMs: 10_000 });
  return again.available ? { env } : { skip: again.reason, env };
}

let cached: Promise<SlurmTestEnv> | undefined;

/**
 * The Slurm the tests use. Throws when Slurm is missing and `CI` is set (CI must run these
 * tests, not skip them).
 */
export async function slurmTestEnv(): Promise<SlurmTestEnv> {
  cached ??= findSlurm();
  const r = await cached;
  if (r.skip && process.env.CI) {
    throw new Error(`Slurm is required under CI (install slurm-wlm and munge, run as root): ${r.skip}`);
  }
  return r;
}

/** Polls `check` every `everyMs` until it returns a value, or throws after `ms`. */
export async function pollUntil<T>(
  check: () => Promise<T | undefined>,
  ms: number,
  what: string,
  everyMs = 100,
): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
