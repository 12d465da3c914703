import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRun, FAILING_CLUSTER, type Run } from '../../monitor/test/fixture.js';
import { fromFiles } from '../../monitor/test/from-files.js';
import { registerAnalyzerCommand } from '../src/analyzer-command.js';
import type { CommandContext } from '../src/program.js';
import { registerStatisticsCommand } from '../src/statistics-command.js';
import { registerStatusCommand } from '../src/status-command.js';
import { type CommandRun, runCommand } from './command-harness.js';

const REGISTER: Record<string, (p: Command, ctx: CommandContext) => Command> = {
  status: registerStatusCommand,
  analyzer: registerAnalyzerCommand,
  statistics: registerStatisticsCommand,
};

/** Runs `pegasus-ts CMD ARGS` in-process; returns exit code and output. */
function pt(cmd: string, args: string[]): Promise<CommandRun> {
  return runCommand(cmd, args, REGISTER[cmd]);
}

let failed: Run;
let ok: Run;
beforeAll(async () => {
  [failed, ok] = await Promise.all([buildRun('failure'), buildRun('success')]);
}, 180_000);
afterAll(() => {
  failed?.cleanup();
  ok?.cleanup();
});

describe('pegasus-ts status', () => {
  it('prints the table and progress bar, -l the jobs, -j JSON', async () => {
    const r = await pt('status', ['-l', failed.submitDir]);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toMatch(/STAT\s+IN_STATE\s+TRY\s+SITE\s+JOB/);
    expect(r.out).toContain(`FAIL`);
    expect(r.out).toContain(FAILING_CLUSTER);
    // the numbers as counted from the run's own files
    const f = fromFiles(failed.submitDir);
    expect(f.failed).toBe(1);
    const pct = ((f.done / f.jobs.length) * 100).toFixed(1);
    expect(r.out).toMatch(
      new RegExp(
        `\\s${f.unready}\\s+${f.ready}\\s+0\\s+0\\s+0\\s+${f.done}\\s+1\\s+${pct}\\s+Failure\\s+koto-mc`,
      ),
    );
    expect(r.out).toMatch(
      new RegExp(`FAIL\\s+\\d\\d:\\d\\d\\s+3\\s+local\\s+${FAILING_CLUSTER}\\s+POST_SCRIPT_FAILURE`),
    );
    expect(r.out).toContain('Summary: 1 DAG total (Failure:1)');
    const j = await pt('status', ['-j', ok.submitDir]);
    expect(JSON.parse(j.out)).toMatchObject({
      totals: { succeeded: fromFiles(ok.submitDir).jobs.length, failed: 0, percent_done: 100 },
      dags: { root: { state: 'Success' } },
    });
    // --watch ends at once on a finished workflow
    const w = await pt('status', ['--watch', '0.1', ok.submitDir]);
    expect(w.code).toBe(0);
    expect(w.out).toContain('Success');
  });

  it('rejects bad options and a missing dir in one line', async () => {
    expect(await pt('status', ['--watch', 'x', ok.submitDir])).toMatchObject({
      code: 2,
      err: 'pegasus-ts status: --watch x: expected a number of seconds from 0.1 to 86400\n',
    });
    const r = await pt('status', [join(ok.dir, 'missing')]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`pegasus-ts status: ${join(ok.dir, 'missing')}: no such submit directory\n`);
  });
});

describe('pegasus-ts analyzer', () => {
  it('exits 1 with the failed job and its failed task', async () => {
    const r = await pt('analyzer', [failed.submitDir]);
    expect(r.code).toBe(1);
    const f = fromFiles(failed.submitDir);
    const pct = (n: number) => ((n / f.jobs.length) * 100).toFixed(2);
    expect(r.out).toContain(` # jobs failed      :      1 (${pct(1)}%)`);
    expect(r.out).toContain(` # jobs succeeded   :      ${f.done} (${pct(f.done)}%)`);
    expect(r.out).toContain(` # jobs unsubmitted :      ${f.unsubmitted} (${pct(f.unsubmitted)}%)`);
    expect(r.out).toContain('last state: POST_SCRIPT_FAILURE');
    expect(r.out).toContain('Task #4 - koto::koto-sim:1.0 - sim_00003');
    expect(r.out).toContain('koto-sim: seed 1003: detector geometry rejected (KOTO_FAIL_SEED)');
    expect(r.out).toContain('exit code: 7 (after 3 tries)');
    expect(r.out).toContain(`record: invocations/${FAILING_CLUSTER}.002.yml`);
  });

  it('exits 0 when nothing failed', async () => {
    const r = await pt('analyzer', [ok.submitDir]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('No failed jobs.');
  });
});

describe('pegasus-ts statistics', () => {
  it('prints the summary and writes the files of -s all', async () => {
    const r = await pt('statistics', ['-s', 'all', ok.submitDir]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Tasks\s+13\s+0\s+0\s+13\s+0\s+13\n/);
    const n = fromFiles(ok.submitDir).jobs.length;
    expect(r.out).toMatch(new RegExp(`Jobs\\s+${n}\\s+0\\s+0\\s+${n}\\s+0\\s+${n}\\n`));
    const f = await pt('statistics', [failed.submitDir]);
    expect(f.code).toBe(0);
    // 11 tasks ran fine, sim_00003 failed 3 tries in each of 3 attempts, the merge never ran
    expect(f.out).toMatch(/Tasks\s+11\s+1\s+1\s+13\s+8\s+20\n/);
    const x = fromFiles(failed.submitDir);
    expect(f.out).toMatch(
      new RegExp(
        `Jobs\\s+${x.done}\\s+1\\s+${x.jobs.length - x.done - 1}\\s+${x.jobs.length}\\s+2\\s+${x.done + 3}\\n`,
      ),
    );
    for (const f of [
      'summary.txt',
      'breakdown.txt',
      'jobs.txt',
      'time.txt',
      'time-per-host.txt',
      'gantt.svg',
    ]) {
      expect(existsSync(join(ok.submitDir, 'statistics', f)), f).toBe(true);
    }
    expect(readFileSync(join(ok.submitDir, 'statistics/summary.txt'), 'utf8')).toContain(
      'Workflow wall time',
    );
    expect(await pt('statistics', ['-s', 'some', ok.submitDir])).toMatchObject({
      code: 2,
      err: 'pegasus-ts statistics: -s some: expected summary or all\n',
    });
  });
});
