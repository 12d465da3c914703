// The engine on a real single-node Slurm (started by scripts/slurm/start-slurm.sh): the KOTO
// workflow planned with horizontal clustering onto the Slurm site; each clustered job is an sbatch
// script running the cluster runner under MPI (srun) inside its allocation; outputs staged to the
// output site and registered. Then the faults: scancel of a running clustered job, a task failing
// for good and a second run after the fix, and a clustered job drained for its wall time.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { inPlannerLayout } from '@pegasus-ts/model';
import { afterEach, describe, expect, it } from 'vitest';
import { slurmTestEnv } from '../packages/engine/test/slurm-env.js';
import { hasStackTrace, pt, start, tempDir, until } from './helpers.js';
import {
  checkMerged,
  eventCounts,
  jobstate,
  planJobs,
  planKoto,
  rescueDone,
  runCounts,
} from './koto-workflow.js';

const slurm = await slurmTestEnv();
const env = (extra: Record<string, string> = {}): Record<string, string> => ({
  SLURM_CONF: slurm.env.SLURM_CONF ?? '',
  ...extra,
});

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

/** How many successful records each task (cluster file + task number) has in the clusters' invocations files. */
function successfulRecords(submitDir: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const f of readFileSync(path.join(submitDir, 'plan.yml'), 'utf8').matchAll(
    /dag: "?(clusters\/[^"\n]+)"?/g,
  )) {
    let text = '';
    try {
      text = readFileSync(path.join(submitDir, `${f[1]}.invocations.yml`), 'utf8');
    } catch {
      continue;
    }
    for (const rec of text.split(/^- invocation: true$/m).slice(1)) {
      const id = /^ {2}derivation: "?([^"\n]+)"?$/m.exec(rec)?.[1];
      const ok = /regular_exitcode: 0$/m.test(rec);
      const key = `${f[1]}:${id}`;
      if (id && ok) counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

describe.skipIf(slurm.skip !== undefined)(
  `pegasus-ts run on Slurm${slurm.skip ? ` (skipped: ${slurm.skip})` : ''}`,
  () => {
    it('runs a few hundred KOTO jobs clustered into sbatch jobs, the cluster runner under MPI, outputs staged and registered', async () => {
      const t = tempDir('engine-slurm-');
      cleanup = t.cleanup;
      const { dir, submitDir } = planKoto(t.dir, { jobs: 240, clusterSize: 30, site: 'slurm' });
      expect(inPlannerLayout(readFileSync(path.join(submitDir, 'plan.yml'), 'utf8'))).toBe(true);
      const r = await pt(['run', '--foreground', '-q', '--poll', '250', submitDir], { env: env() });
      expect(r.stderr).toContain('workflow succeeded');
      expect(r.code).toBe(0);
      checkMerged(dir, 240);
      expect(readFileSync(path.join(submitDir, 'output-replicas.yml'), 'utf8')).toContain(
        `pfn: file://${dir}/outputs/koto-merged.root`,
      );
      const jobs = planJobs(submitDir);
      const ok = eventCounts(submitDir, 'POST_SCRIPT_SUCCESS');
      for (const j of jobs) expect(ok.get(j), j).toBe(1);
      // 8 clustered jobs and the merge went through sbatch; each cluster ran its 30 tasks under MPI
      const grid = eventCounts(submitDir, 'GRID_SUBMIT');
      expect(grid.size).toBe(9);
      const clusters = jobs.filter((j) => j.startsWith('merge_'));
      expect(clusters.length).toBe(8);
      for (const c of clusters) {
        const log = readFileSync(path.join(submitDir, 'clusters', `${c}.sbatch.err`), 'utf8');
        expect(log).toMatch(/Using transport mpi \(Open MPI/);
        expect(rescueDone(path.join(submitDir, 'clusters', `${c}.dag`)).size).toBe(30);
      }
      const records = successfulRecords(submitDir);
      expect(records.size).toBe(240);
      expect([...records.values()].every((n) => n === 1)).toBe(true);
    }, 240_000);

    it('scancel of a running clustered job: the retry finishes without rerunning finished tasks', async () => {
      const t = tempDir('engine-scancel-');
      cleanup = t.cleanup;
      const { dir, submitDir } = planKoto(t.dir, { jobs: 16, clusterSize: 16, site: 'slurm' });
      const runLog = path.join(dir, 'runs.log');
      const engine = start(['run', '--foreground', '-q', '--poll', '200', submitDir], {
        env: env({ KOTO_RUN_LOG: runLog, KOTO_SLEEP: '0.4' }),
      });
      const cluster = planJobs(submitDir).find((j) => j.startsWith('merge_')) as string;
      const dag = path.join(submitDir, 'clusters', `${cluster}.dag`);
      await until(() => rescueDone(dag).size >= 4, 60_000, 'four tasks done in the clustered job');
      const id = jobstate(submitDir).find((f) => f[1] === cluster && f[2] === 'GRID_SUBMIT')?.[3] as string;
      execFileSync('scancel', [id], { env: { ...process.env, ...env() } });
      const doneAtCancel = rescueDone(dag);
      const r = await engine.done;
      expect(r.code).toBe(0);
      checkMerged(dir, 16);
      const failures = jobstate(submitDir).filter((f) => f[1] === cluster && f[2] === 'JOB_FAILURE');
      expect(failures.length).toBe(1); // the cancelled attempt
      expect(eventCounts(submitDir, 'GRID_SUBMIT').get(cluster)).toBe(2);
      const runs = runCounts(runLog);
      // every task DONE when it was cancelled ran exactly once; the rest at least once
      for (const task of doneAtCancel) expect(runs.get(`sim ${1000 + Number(task.slice(4))}`), task).toBe(1);
      for (let s = 1000; s < 1016; s++) expect(runs.get(`sim ${s}`), `sim ${s}`).toBeGreaterThanOrEqual(1);
      expect(doneAtCancel.size).toBeGreaterThanOrEqual(4);
    }, 240_000);

    it('remove scancels the running Slurm jobs; run resumes and finishes', async () => {
      const t = tempDir('engine-slurm-remove-');
      cleanup = t.cleanup;
      const { dir, submitDir } = planKoto(t.dir, { jobs: 8, clusterSize: 8, site: 'slurm' });
      const runLog = path.join(dir, 'runs.log');
      const e = env({ KOTO_RUN_LOG: runLog, KOTO_SLEEP: '1' });
      expect((await pt(['run', '--poll', '200', submitDir], { env: e })).code).toBe(0);
      const cluster = planJobs(submitDir).find((j) => j.startsWith('merge_')) as string;
      await until(
        () => jobstate(submitDir).some((f) => f[1] === cluster && f[2] === 'EXECUTE'),
        30_000,
        'the clustered job to run on Slurm',
      );
      const id = jobstate(submitDir).find((f) => f[1] === cluster && f[2] === 'GRID_SUBMIT')?.[3] as string;
      const removed = await pt(['remove', submitDir], { env: e });
      expect(removed.code).toBe(0);
      expect(removed.stdout).toMatch(/stopped the engine/);
      const state = execFileSync('squeue', ['-h', '-t', 'all', '-j', id, '-o', '%T'], {
        env: { ...process.env, ...e },
        encoding: 'utf8',
      }).trim();
      expect(state).toBe('CANCELLED');
      expect(jobstate(submitDir).some((f) => f[1] === cluster && f[2] === 'JOB_ABORTED')).toBe(true);
      const resumed = await pt(['run', '--foreground', '-q', '--poll', '200', submitDir], { env: e });
      expect(resumed.code).toBe(0);
      checkMerged(dir, 8);
      for (let s = 1000; s < 1008; s++)
        expect(runCounts(runLog).get(`sim ${s}`), `sim ${s}`).toBeGreaterThanOrEqual(1);
    }, 240_000);

    it('a task that fails for good leaves a rescue state that a second run completes after the fix', async () => {
      const t = tempDir('engine-slurm-rescue-');
      cleanup = t.cleanup;
      const { dir, submitDir } = planKoto(t.dir, { jobs: 12, clusterSize: 6, site: 'slurm' });
      const runLog = path.join(dir, 'runs.log');
      const fixed = path.join(dir, 'fixed');
      const e = env({ KOTO_RUN_LOG: runLog, KOTO_FAIL_SEED: '1008', KOTO_FAIL_UNLESS: fixed });
      const first = await pt(['run', '--foreground', '-q', '--poll', '200', submitDir], { env: e });
      expect(first.code).toBe(1);
      expect(hasStackTrace(first.stderr)).toBe(false);
      const failing = [...eventCounts(submitDir, 'POST_SCRIPT_FAILURE')];
      expect(failing).toEqual([[expect.stringMatching(/^merge_.*_ID2$/), 3]]);
      execFileSync('touch', [fixed]);
      const second = await pt(['run', '--foreground', '-q', '--poll', '200', submitDir], { env: e });
      expect(second.code).toBe(0);
      checkMerged(dir, 12);
      const runs = runCounts(runLog);
      for (let s = 1000; s < 1012; s++) expect(runs.get(`sim ${s}`), `sim ${s}`).toBe(1);
    }, 240_000);

    it('a clustered job drained for its wall time is resubmitted from its rescue log, not counted as a failure', async () => {
      const t = tempDir('engine-walltime-');
      cleanup = t.cleanup;
      // 1-minute allocations: the runner gets --max-wall-time 0.5 and stops starting tasks it cannot finish
      // 16 tasks of 5 s on one worker with 2 CPUs: at least 40 s of work in 30 s
      const { dir, submitDir } = planKoto(t.dir, { jobs: 16, clusterSize: 16, site: 'slurm', walltime: 1 });
      const runLog = path.join(dir, 'runs.log');
      const r = await pt(['run', '--foreground', '-q', '--poll', '250', submitDir], {
        env: env({ KOTO_RUN_LOG: runLog, KOTO_SLEEP: '5' }),
      });
      expect(r.code).toBe(0);
      checkMerged(dir, 16);
      const cluster = planJobs(submitDir).find((j) => j.startsWith('merge_')) as string;
      const evicted = jobstate(submitDir).filter((f) => f[1] === cluster && f[2] === 'JOB_EVICTED');
      expect(evicted.length).toBeGreaterThanOrEqual(1);
      expect(evicted[0][3]).toBe('75');
      expect(eventCounts(submitDir, 'POST_SCRIPT_FAILURE').size).toBe(0);
      const runs = runCounts(runLog);
      for (let s = 1000; s < 1016; s++) expect(runs.get(`sim ${s}`), `sim ${s}`).toBe(1);
    }, 240_000);
  },
);
