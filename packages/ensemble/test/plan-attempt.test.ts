// Plan attempts through the real detached wrapper: claim, exit code, stdout, and the claim race
// a restarted manager wins so that a late wrapper never plans.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// through the built package: the wrapper it spawns is dist/internal/plan-wrapper.js
import {
  abandonPlanAttempt,
  killPlanAttempt,
  planAttemptState,
  startPlanAttempt,
} from '@pegasus-ts/ensemble';
import { afterEach, describe, expect, it } from 'vitest';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** True when `pid` has ended (a zombie waiting for its reaper counts as ended). */
function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

describe('plan attempts', () => {
  it('runs the command detached in its base dir and records stdout, stderr and the exit code', async () => {
    dir = mkdtempSync(join(tmpdir(), 'em-plan-'));
    const a = join(dir, 'plan.001');
    startPlanAttempt(a, dir, ['/bin/sh', '-c', 'pwd; echo oops >&2; exit 3'], process.env);
    await until(() => planAttemptState(a).kind === 'exited');
    expect(planAttemptState(a)).toEqual({ kind: 'exited', code: 3, stdout: `${dir}\n` });
    expect(readFileSync(join(a, 'stderr'), 'utf8')).toBe('oops\n');
    const b = join(dir, 'plan.002');
    startPlanAttempt(b, dir, ['/no/such/planner'], process.env);
    await until(() => planAttemptState(b).kind === 'exited');
    expect(planAttemptState(b)).toMatchObject({ kind: 'exited', code: 127 });
    expect(readFileSync(join(b, 'stderr'), 'utf8')).toContain('cannot start /no/such/planner');
  });

  it('an attempt claimed first by the manager never runs; a running one is seen running and can be killed', async () => {
    dir = mkdtempSync(join(tmpdir(), 'em-plan-'));
    const a = join(dir, 'plan.001');
    expect(abandonPlanAttempt(a)).toBe(true);
    const pid = startPlanAttempt(a, dir, ['/bin/sh', '-c', `touch ${dir}/ran`], process.env);
    await until(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    });
    expect(existsSync(join(dir, 'ran'))).toBe(false);
    expect(planAttemptState(a).kind).toBe('abandoned');

    const b = join(dir, 'plan.002');
    startPlanAttempt(b, dir, ['/bin/sh', '-c', `echo $$ > ${dir}/sh.pid; sleep 60`], process.env);
    await until(() => planAttemptState(b).kind === 'running' && existsSync(join(dir, 'sh.pid')));
    expect(abandonPlanAttempt(b)).toBe(false); // the wrapper claimed it
    const sh = Number(readFileSync(join(dir, 'sh.pid'), 'utf8'));
    killPlanAttempt(b);
    await until(() => planAttemptState(b).kind === 'vanished');
    await until(() => gone(sh)); // the plan command went with its wrapper's process group
  });
});
