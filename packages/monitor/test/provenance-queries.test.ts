// The service's paged queries on a real failed KOTO run (fixture.ts): filters, both paging paths
// (key range and OFFSET) giving the same rows, a clustered job's tasks and failed task, Gantt groups.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/database.js';
import { MonitorError } from '../src/errors.js';
import { openMonitor } from '../src/open-monitor.js';
import {
  ganttBars,
  jobDistribution,
  jobInstanceDetail,
  listInvocations,
  listJobInstances,
  listJobs,
  listTasks,
} from '../src/provenance-queries.js';
import { buildRun, CLUSTER_SIZE, FAILING_CLUSTER, FAILING_SEED, FAILING_TASK, type Run } from './fixture.js';

let run: Run;
let db: Db;
beforeAll(async () => {
  run = await buildRun('failure');
  ({ db } = await openMonitor(run.submitDir));
}, 180_000);
afterAll(() => {
  db?.close();
  run?.cleanup();
});

describe('provenance queries (the service API)', () => {
  it('splits the jobs into the dashboard tabs as analyzer counts them', () => {
    const all = listJobs(db, 'all', false, { max: 1000 });
    const failed = listJobs(db, 'failed', false);
    const ok = listJobs(db, 'successful', false);
    expect(failed.rows.map((j) => j.name)).toEqual([FAILING_CLUSTER]);
    expect(failed.rows[0]).toMatchObject({ tries: 3, state: 'POST_SCRIPT_FAILURE' });
    expect(listJobs(db, 'running', false).total).toBe(0);
    expect(listJobs(db, 'failing', false).total).toBe(0);
    expect(ok.total + failed.total).toBeLessThan(all.total); // the merge and later jobs never ran
    expect(ok.rows.every((j) => j.state === 'POST_SCRIPT_SUCCESS')).toBe(true);
    const byName = listJobs(db, 'all', false, { order: '-name', max: 3 }).rows.map((j) => j.name);
    expect(byName).toEqual(
      all.rows
        .map((j) => j.name)
        .sort()
        .reverse()
        .slice(0, 3),
    );
  });

  it('pages by key range and by OFFSET alike', () => {
    const total = listInvocations(db, undefined, { max: 1 }).total;
    expect(total).toBeGreaterThan(10);
    for (const start of [0, 3, total - 2]) {
      const byRange = listInvocations(db, undefined, { start, max: 5 });
      const byOffset = listInvocations(db, undefined, { start, max: 5, order: 'id' });
      expect(byRange).toEqual(byOffset);
      expect(byRange.rows.length).toBe(Math.min(5, total - start));
    }
    expect(listJobInstances(db, undefined, { start: 2, max: 4 })).toEqual(
      listJobInstances(db, undefined, { start: 2, max: 4, order: 'id' }),
    );
  });

  it("shows a failed clustered job's attempts, tasks, failed task and its stderr", () => {
    const job = listJobs(db, 'failed', false).rows[0];
    expect(listJobInstances(db, job.jobId).total).toBe(3);
    const tasks = listTasks(db, job.jobId);
    expect(tasks.total).toBe(CLUSTER_SIZE);
    expect(tasks.rows.every((t) => t.jobName === FAILING_CLUSTER)).toBe(true);
    const d = jobInstanceDetail(db, run.submitDir, job.lastInstanceId!)!;
    expect(d.try).toBe(3);
    expect(d.final).toBe('failure');
    expect(d.states[0].sincePrevious).toBeNull();
    expect(d.states.at(-1)!.state).toBe('POST_SCRIPT_FAILURE');
    expect(d.failedTaskCount).toBe(1);
    expect(d.failedTasks[0].absTaskId).toBe(FAILING_TASK);
    expect(d.invocations.map((i) => i.stderr ?? '').join('\n')).toContain(
      `koto-sim: seed ${FAILING_SEED}: detector geometry rejected`,
    );
    expect(d.stderrTail).toMatch(/failed/);
    expect(jobInstanceDetail(db, run.submitDir, 999_999)).toBeUndefined();
  });

  it('folds the Gantt bars into groups that cover every attempt', () => {
    const all = ganttBars(db, { max: 1000 });
    const grouped = ganttBars(db, { groups: 4 });
    expect(grouped.rows.length).toBeLessThanOrEqual(4);
    expect(grouped.rows.reduce((n, r) => n + r.count, 0)).toBe(all.total);
    expect(grouped.rows.reduce((n, r) => n + r.failed, 0)).toBe(3);
    expect(grouped.origin).toBe(Math.min(...all.rows.map((r) => r.submit!)));
    // 3 attempts of the clustered job, each trying the task 3 times
    expect(jobDistribution(db).find((r) => r.transformation.includes('koto-sim'))!.failed).toBe(9);
  });

  it('refuses unknown orders and bad paging values with usage errors', () => {
    for (const bad of [{ order: 'nope' }, { start: -1 }, { max: 0 }, { max: 10_001 }, { start: 1.5 }]) {
      expect(() => listJobs(db, 'all', false, bad)).toThrow(MonitorError);
    }
    expect(() => listJobs(db, 'all', false, { order: 'nope' })).toThrow(
      "order 'nope': expected one of id, name, type, state, stateTime, failures, transformation (- for descending)",
    );
  });
});
