// The engine end to end in local mode, through the real `pegasus-ts` program: the KOTO example
// planned with horizontal clustering, clustered jobs run by the cluster runner over ZeroMQ, data
// jobs by `pegasus-ts transfer`, every job under kickstart. Needs the packages built.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readLockHolder } from '@pegasus-ts/engine';
import { inPlannerLayout } from '@pegasus-ts/model';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, BIN, hasStackTrace, pt, tempDir, until } from './helpers.js';
import {
  buildKoto,
  checkMerged,
  eventCounts,
  jobstate,
  planArgs,
  planJobs,
  planKoto,
  processesMentioning,
  runCounts,
} from './koto-workflow.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

describe('pegasus-ts run (local mode)', () => {
  it('plans and runs the KOTO workflow: outputs staged out with the right content, registered, every job recorded', async () => {
    const t = tempDir('engine-ok-');
    cleanup = t.cleanup;
    const { dir, submitDir } = planKoto(t.dir, { jobs: 12, clusterSize: 5 });
    // the engine reads the planner's plan.yml with its line reader (no general YAML parse)
    expect(inPlannerLayout(readFileSync(path.join(submitDir, 'plan.yml'), 'utf8'))).toBe(true);
    const r = await pt(['run', '--foreground', submitDir]);
    expect(r.stderr).toContain('engine finished: workflow succeeded');
    expect(r.code).toBe(0);
    checkMerged(dir, 12);
    const rc = readFileSync(path.join(submitDir, 'output-replicas.yml'), 'utf8');
    expect(rc).toContain(`pfn: file://${dir}/outputs/koto-merged.root`);
    const jobs = planJobs(submitDir);
    const ok = eventCounts(submitDir, 'POST_SCRIPT_SUCCESS');
    for (const j of jobs) expect(ok.get(j), j).toBe(1);
    expect(eventCounts(submitDir, 'POST_SCRIPT_FAILURE').size).toBe(0);
    const lines = jobstate(submitDir);
    expect(lines[0].slice(1, 4)).toEqual(['INTERNAL', '***', 'DAGMAN_STARTED']);
    expect(lines[lines.length - 1].slice(1, 5)).toEqual(['INTERNAL', '***', 'DAGMAN_FINISHED', '0']);
    // a kickstart record per job (compute, cluster, data, registration), the task records per cluster
    const records = readdirSync(path.join(submitDir, 'invocations'));
    expect(records.length).toBe(jobs.length);
    const clusterRecords = readdirSync(path.join(submitDir, 'clusters')).filter((f) =>
      f.endsWith('.invocations.yml'),
    );
    expect(clusterRecords.length).toBe(3);
    // a second run has nothing to do
    const again = await pt(['run', '--foreground', submitDir]);
    expect(again.code).toBe(0);
    expect(eventCounts(submitDir, 'SUBMIT').size).toBe(jobs.length);
    expect([...eventCounts(submitDir, 'SUBMIT').values()].every((n) => n === 1)).toBe(true);
  }, 180_000);

  it('retries, fails for good with a rescue state, and a second run completes after the input is fixed', async () => {
    const t = tempDir('engine-rescue-');
    cleanup = t.cleanup;
    const { dir, submitDir } = planKoto(t.dir, { jobs: 10, clusterSize: 5 });
    const runLog = path.join(dir, 'runs.log');
    const fixed = path.join(dir, 'fixed');
    const env = { KOTO_FAIL_SEED: '1003', KOTO_FAIL_UNLESS: fixed, KOTO_RUN_LOG: runLog };
    const first = await pt(['run', '--foreground', '-q', submitDir], { env });
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/merge_\S+_ID1: failed for good after 3 attempt\(s\)/);
    expect(hasStackTrace(first.stderr)).toBe(false);
    const failures = eventCounts(submitDir, 'POST_SCRIPT_FAILURE');
    expect([...failures.values()]).toEqual([3]); // dagman.retry=2: 3 attempts of the clustered job
    expect(eventCounts(submitDir, 'SUBMIT').get('merge')).toBeUndefined(); // its child never ran
    // inside the failing cluster, the tasks that succeeded ran once, across the 3 attempts
    const runs1 = runCounts(runLog);
    for (const s of [1000, 1001, 1002, 1004]) expect(runs1.get(`sim ${s}`), `sim ${s}`).toBe(1);
    expect(runs1.get('sim 1003')).toBeUndefined();
    writeFileSync(fixed, 'the geometry is fixed\n');
    const second = await pt(['run', '--foreground', '-q', submitDir], { env });
    expect(second.code).toBe(0);
    checkMerged(dir, 10);
    const runs2 = runCounts(runLog);
    for (let s = 1000; s < 1010; s++) expect(runs2.get(`sim ${s}`), `sim ${s}`).toBe(1);
    expect(runs2.get('merge')).toBe(1);
  }, 180_000);

  it('survives kill -9 of the engine again and again: nothing lost, nothing finished run twice', async () => {
    const t = tempDir('engine-crash-');
    cleanup = t.cleanup;
    const { dir, submitDir } = planKoto(t.dir, { jobs: 24, clusterSize: 4 });
    const runLog = path.join(dir, 'runs.log');
    const env = { KOTO_RUN_LOG: runLog, KOTO_SLEEP: '0.15' };
    let kills = 0;
    for (let round = 0; round < 6; round++) {
      const r = await pt(['run', '--slots', '2', submitDir], { env });
      expect(r.code, r.stderr).toBe(0);
      // started, or (the last rounds) ran to its end at once: everything was done
      expect(r.stdout).toMatch(
        /engine started \(pid \d+\)|engine \d+ ran and ended: engine finished: workflow succeeded/,
      );
      const pid = readLockHolder(submitDir)?.pid;
      if (pid === undefined) break;
      await new Promise((res) => setTimeout(res, 300 + Math.floor(Math.random() * 900)));
      if (!alive(pid)) break;
      process.kill(pid, 'SIGKILL');
      kills++;
      await until(() => !alive(pid), 5000, 'the engine to die');
    }
    expect(kills).toBeGreaterThanOrEqual(3);
    const last = await pt(['run', '--foreground', '-q', '--slots', '2', submitDir], { env });
    expect(last.code).toBe(0);
    checkMerged(dir, 24);
    const runs = runCounts(runLog);
    for (let s = 1000; s < 1024; s++) expect(runs.get(`sim ${s}`), `sim ${s}`).toBe(1);
    expect(runs.get('merge')).toBe(1);
    const starts = jobstate(submitDir).filter((f) => f[3] === 'DAGMAN_STARTED').length;
    expect(starts).toBeGreaterThanOrEqual(kills + 1);
  }, 180_000);

  it('remove stops the engine and its jobs; run resumes and finishes', async () => {
    const t = tempDir('engine-remove-');
    cleanup = t.cleanup;
    const { dir, submitDir } = planKoto(t.dir, { jobs: 8, clusterSize: 4 });
    const runLog = path.join(dir, 'runs.log');
    const env = { KOTO_RUN_LOG: runLog, KOTO_SLEEP: '1' };
    const started = await pt(['run', submitDir], { env });
    expect(started.code).toBe(0);
    expect(started.stdout).toMatch(/engine started \(pid \d+\)/);
    const second = await pt(['run', '--foreground', submitDir], { env });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/already driven by the engine with pid \d+/);
    await until(
      () => jobstate(submitDir).some((f) => f[1].startsWith('merge_') && f[2] === 'EXECUTE'),
      20_000,
      'a clustered job to run',
    );
    const removed = await pt(['remove', submitDir]);
    expect(removed.stdout).toMatch(/stopped the engine \(pid \d+\)/);
    expect(removed.code).toBe(0);
    const lines = jobstate(submitDir);
    expect(lines.some((f) => f[2] === 'JOB_ABORTED')).toBe(true);
    expect(lines[lines.length - 1].slice(3, 5)).toEqual(['DAGMAN_FINISHED', '2']);
    expect(existsSync(path.join(submitDir, 'engine.pid'))).toBe(false);
    await until(() => processesMentioning(submitDir).length === 0, 10_000, 'the jobs to end');
    const resumed = await pt(['run', '--foreground', '-q', submitDir], { env: { KOTO_RUN_LOG: runLog } });
    expect(resumed.code).toBe(0);
    checkMerged(dir, 8);
    for (let s = 1000; s < 1008; s++) expect(runCounts(runLog).get(`sim ${s}`), `sim ${s}`).toBe(1);
  });

  it('plan --submit plans and starts the engine detached; the workflow finishes on its own', async () => {
    const t = tempDir('engine-submit-');
    cleanup = t.cleanup;
    buildKoto(t.dir, { jobs: 4 });
    const r = await pt([...planArgs(t.dir, 'local').filter((a) => a !== '-q'), '--submit', 'workflow.yml'], {
      cwd: t.dir,
    });
    expect(r.code).toBe(0);
    const submitDir = r.stdout.split('\n').find((l) => l.startsWith('/')) as string;
    expect(r.stdout).toMatch(/engine started \(pid \d+\)/);
    await until(
      () =>
        existsSync(path.join(submitDir, 'jobstate.log')) &&
        jobstate(submitDir).some((f) => f[3] === 'DAGMAN_FINISHED'),
      60_000,
      'the detached engine to finish',
    );
    expect(jobstate(submitDir).pop()?.slice(3, 5)).toEqual(['DAGMAN_FINISHED', '0']);
    checkMerged(t.dir, 4);
    expect(readFileSync(path.join(submitDir, 'engine.log'), 'utf8')).toContain(
      'engine finished: workflow succeeded',
    );
  });

  it('checks the sha256 the replica catalog gives: a mismatch fails the stage-in and names both sums', async () => {
    const t = tempDir('engine-checksum-');
    cleanup = t.cleanup;
    buildKoto(t.dir, { jobs: 2 });
    const beam = readFileSync(path.join(t.dir, 'inputs/beam-config.json'));
    const right = createHash('sha256').update(beam).digest('hex');
    const wrong = 'ab'.repeat(32);
    const rc = readFileSync(path.join(t.dir, 'replicas.yml'), 'utf8');
    const withSum = (sum: string): string =>
      rc.replace(/(pfn: file:\/\/\S+beam-config\.json)/, `$1\n    checksum:\n      sha256: ${sum}`);
    const plan = (sum: string): string => {
      writeFileSync(path.join(t.dir, 'replicas.yml'), withSum(sum));
      return execFileSync(process.execPath, [BIN, ...planArgs(t.dir, 'local'), 'workflow.yml'], {
        cwd: t.dir,
        encoding: 'utf8',
      }).trim();
    };
    const bad = plan(wrong);
    const r = await pt(['run', '--foreground', '-q', bad]);
    expect(r.code).toBe(1);
    const stageIn = planJobs(bad).find((j) => j.startsWith('stage_in_')) as string;
    expect(eventCounts(bad, 'POST_SCRIPT_FAILURE').get(stageIn)).toBe(3);
    const err = readFileSync(path.join(bad, 'jobs', `${stageIn}.err.000`), 'utf8');
    expect(err).toContain(wrong);
    expect(err).toContain(right);
    const good = plan(right);
    expect((await pt(['run', '--foreground', '-q', good])).code).toBe(0);
    checkMerged(t.dir, 2);
  }, 180_000);

  it('dagman.maxjobs=1 (a property at plan time) lets one job run at a time, even with free slots', async () => {
    const t = tempDir('engine-maxjobs-');
    cleanup = t.cleanup;
    const { dir, submitDir } = planKoto(t.dir, {
      jobs: 6,
      clusterSize: 2,
      extra: ['-D', 'dagman.maxjobs=1'],
    });
    const r = await pt(['run', '--foreground', '-q', '--slots', '4', '--cluster-workers', '1', submitDir]);
    expect(r.code).toBe(0);
    checkMerged(dir, 6);
    // each job's kickstart record: its start (ms) and duration; no two may overlap
    const spans = readdirSync(path.join(submitDir, 'invocations')).map((f) => {
      const text = readFileSync(path.join(submitDir, 'invocations', f), 'utf8');
      const start = Date.parse(/^ {2}start: (\S+)$/m.exec(text)?.[1] ?? '');
      const duration = Number(/^ {2}duration: (\S+)$/m.exec(text)?.[1]) * 1000;
      return [start, start + duration] as const;
    });
    expect(spans.length).toBe(planJobs(submitDir).length);
    spans.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1] - 1);
  });

  it('reports a bad submit dir and a second engine in one line', async () => {
    const t = tempDir('engine-bad-');
    cleanup = t.cleanup;
    const r = await pt(['run', '--foreground', t.dir]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `pegasus-ts run: ${t.dir}: not a submit directory (no plan.yml; plan one with pegasus-ts plan)`,
    );
    writeFileSync(
      path.join(t.dir, 'plan.yml'),
      'plan: "1.0"\njobs:\n  - {name: a, kind: compute, command: [/bin/true]}\n',
    );
    const bad = await pt(['run', '--foreground', t.dir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe(
      `pegasus-ts run: ${t.dir}/plan.yml:3: job a: site: expected a non-empty string`,
    );
    const slots = await pt(['run', '--slots', '0', t.dir]);
    expect(slots.code).toBe(2);
    expect(slots.stderr.trim()).toBe('pegasus-ts run: --slots 0 (expected an integer >= 1)');
    // remove of a dir driven from another host: no pid of this machine is signalled
    writeFileSync(path.join(t.dir, 'engine.pid'), `${process.pid} elsewhere.example.org\n`);
    const remote = await pt(['remove', t.dir]);
    expect(remote.code).toBe(1);
    expect(remote.stderr.trim()).toBe(
      `pegasus-ts remove: ${t.dir}: driven by the engine with pid ${process.pid} on elsewhere.example.org; run pegasus-ts remove there`,
    );
  });
});
