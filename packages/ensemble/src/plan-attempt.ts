import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { claimFile } from './internal/claim.js';

const WRAPPER = fileURLToPath(new URL('./internal/plan-wrapper.js', import.meta.url));

/** Where a plan attempt stands, from its directory. */
export type PlanAttemptState =
  | { kind: 'unclaimed' }
  | { kind: 'running'; pid: number }
  | { kind: 'vanished' }
  | { kind: 'abandoned' }
  | { kind: 'exited'; code: number; stdout: string };

/**
 * Starts the plan command of one attempt, detached (it outlives the manager) through the plan
 * wrapper, which claims the attempt, runs the command in `cwd` and records its exit code.
 */
export function startPlanAttempt(
  dir: string,
  cwd: string,
  command: readonly string[],
  env: NodeJS.ProcessEnv,
): number {
  mkdirSync(dir, { recursive: true });
  const child = spawn(process.execPath, [WRAPPER, dir, cwd, '--', ...command], {
    detached: true,
    stdio: 'ignore',
    env,
  });
  child.on('error', () => {}); // the attempt then stays unclaimed and is judged so
  child.unref();
  return child.pid ?? -1;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** True when `pid` runs the plan wrapper of `dir` (not some later process with the same pid). */
function wrapperAlive(pid: number, dir: string): boolean {
  const cmdline = read(`/proc/${pid}/cmdline`);
  return cmdline?.split('\0').includes(dir) ?? false;
}

/** Looks at an attempt's directory: claimed or not, running, ended (with its stdout). */
export function planAttemptState(dir: string): PlanAttemptState {
  const exit = read(join(dir, 'exit'));
  if (exit !== undefined)
    return { kind: 'exited', code: Number(exit.trim()), stdout: read(join(dir, 'stdout')) ?? '' };
  const claim = read(join(dir, 'claim'));
  if (claim === undefined) return { kind: 'unclaimed' };
  if (claim.trim() === 'abandoned') return { kind: 'abandoned' };
  const pid = Number(claim.trim());
  if (Number.isInteger(pid) && pid > 0 && wrapperAlive(pid, dir)) return { kind: 'running', pid };
  // The wrapper may have written its exit file and ended between the two reads.
  return existsSync(join(dir, 'exit')) ? planAttemptState(dir) : { kind: 'vanished' };
}

/**
 * Claims an attempt no wrapper claimed (after a manager restart, or to abort it): a wrapper that
 * starts later finds the claim and does nothing. False when a wrapper claimed it first.
 */
export function abandonPlanAttempt(dir: string): boolean {
  mkdirSync(dir, { recursive: true });
  return claimFile(dir, 'abandoned\n');
}

/** Stops a running plan attempt: the wrapper leads its process group, the plan command is in it. */
export function killPlanAttempt(dir: string): void {
  if (!abandonPlanAttempt(dir)) {
    const s = planAttemptState(dir);
    if (s.kind === 'running') {
      try {
        process.kill(-s.pid, 'SIGTERM');
      } catch {
        /* gone meanwhile */
      }
    }
  }
}

/**
 * The submit dir a plan command printed: a `pegasus-run DIR` or `pegasus-ts run DIR` line
 * (Pegasus's planner prints one), else its last non-empty line (`pegasus-ts plan` prints the
 * submit dir last). Relative paths are taken from `cwd`. Undefined unless it holds a plan.yml.
 */
export function submitDirFromOutput(stdout: string, cwd: string): string | undefined {
  const lines = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  let found: string | undefined;
  for (const l of lines) {
    const m = /(?:^|\s)(?:pegasus-run|pegasus-ts run)\s+(\S+)\s*$/.exec(l);
    if (m) found = m[1];
  }
  found ??= lines[lines.length - 1];
  if (!found) return undefined;
  const dir = isAbsolute(found) ? found : resolve(cwd, found);
  return existsSync(join(dir, 'plan.yml')) ? dir : undefined;
}
