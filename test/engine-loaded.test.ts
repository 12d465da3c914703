// The engine on a machine made slow on purpose (a busy loop per CPU, started and always stopped by
// each test), on the real single-node Slurm: a KOTO workflow of 200 simulations clustered into
// sbatch jobs runs to its end (a run stops only on remove, a signal, or jobs failing for good); a
// task failing for good with exit code 3 is what analyzer reports (exit 1, the task, its exit code,
// its stderr); a stopped run is "Failure (stopped)" for status and analyzer alike.
import { existsSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { readLockHolder } from '@pegasus-ts/engine';
import { afterEach, describe, expect, it } from 'vitest';
import { slurmTestEnv } from '../packages/engine/test/slurm-env.js';
import { cpuHog, pt, start, tempDir, until } from './helpers.js';
import { checkMerged, jobstate, planKoto } from './koto-workflow.js';

const slurm = await slurmTestEnv();
const env = (extra: Record<string, string> = {}): Record<string, string> => ({
  SLURM_CONF: slurm.env.SLURM_CONF ?? '',
  ...extra,
});

let hog: { stop: () => void } | undefined;
let cleanup: (() => void) | undefined;
afterEach(() => {
  hog?.stop();
  hog = undefined;
  cleanup?.();
  cleanup = undefined;
});

/** What status (-j) and analyzer say about a submit dir. */
async function report(submitDir: string) {
  const status = await pt(['status', submitDir]);
  const json = await pt(['status', '-j', submitDir]);
  const analyzer = await pt(['analyzer', submitDir]);
  expect(status.code, status.stderr).toBe(0);
  return { status: status.stdout, root: JSON.parse(json.stdout).dags.root, analyzer };
}

describe.skipIf(slurm.skip !== undefined)(
  `on a loaded machine (a busy loop per CPU), on Slurm${slurm.skip ? ` (skipped: ${slurm.skip})` : ''}`,
  () => {
    it('200 KOTO jobs clustered onto Slurm run to the end; a remove of another dir whose stale engine.pid names this engine does not stop it', async () => {
      const t = tempDir('engine-loaded-');
      cleanup = t.cleanup;
      const { dir, submitDir } = planKoto(t.dir, { jobs: 200, clusterSize: 40, site: 'slurm' });
      // another workflow, its engine killed with -9 long ago: its engine.pid names a pid that is
      // now this run's engine (pids wrap at pid_max within minutes on a busy machine)
      const other = planKoto(path.join(t.dir, 'other'), { jobs: 1, site: 'slurm' });
      hog = cpuHog();
      const engine = start(['run', '--foreground', '-q', '--poll', '250', submitDir], { env: env() });
      const pid = engine.child.pid as number;
      try {
        await until(() => readLockHolder(submitDir)?.pid === pid, 60_000, 'the engine to take its lock');
        const stale = path.join(other.submitDir, 'engine.pid');
        writeFileSync(stale, `${pid} ${hostname()}\n`);
        const longAgo = Date.now() / 1000 - 3600;
        utimesSync(stale, longAgo, longAgo);
        const removed = await pt(['remove', other.submitDir], { env: env() });
        expect(removed.code, removed.stderr).toBe(0);
        expect(removed.stdout).toMatch(/no engine was running/);
      } catch (e) {
        engine.child.kill('SIGTERM');
        throw e;
      }
      let r: Awaited<typeof engine.done>;
      try {
        r = await engine.done;
      } finally {
        engine.child.kill('SIGTERM'); // (a no-op once it has ended)
      }
      expect(r.stderr).not.toMatch(/stopping|cancelled/);
      expect(r.stderr).toContain('engine finished: workflow succeeded');
      expect(r.code).toBe(0);
      checkMerged(dir, 200);
      const { status, root, analyzer } = await report(submitDir);
      expect(root).toMatchObject({ state: 'Success', failed: 0 });
      expect(status).toMatch(/ Success +koto-mc/);
      expect(analyzer.stdout).toMatch(/Workflow Status {4}: Success\n/);
      expect(analyzer.code).toBe(0);
    }, 300_000);

    it('a task that exits 3 for good: analyzer exits 1 naming the task, its exit code and stderr; status agrees', async () => {
      const t = tempDir('engine-loaded-fail-');
      cleanup = t.cleanup;
      const { submitDir } = planKoto(t.dir, { jobs: 12, clusterSize: 6, site: 'slurm' });
      hog = cpuHog();
      const r = await pt(['run', '--foreground', '-q', '--poll', '250', submitDir], {
        env: env({ KOTO_FAIL_SEED: '1008', KOTO_FAIL_EXIT: '3' }),
      });
      expect(r.stderr).toMatch(/failed for good after 3 attempt\(s\)/);
      expect(r.code).toBe(1);
      const { status, root, analyzer } = await report(submitDir);
      expect(root).toMatchObject({ state: 'Failure', failed: 1 });
      expect(status).toMatch(/ Failure +koto-mc/);
      expect(analyzer.code).toBe(1);
      expect(analyzer.stdout).toMatch(/Workflow Status {4}: Failure\n/);
      expect(analyzer.stdout).toMatch(
        /Task #\d+ - koto::koto-sim:1\.0 - sim_00008\n +exit code: 3 \(after \d+ tries\)/,
      );
      expect(analyzer.stdout).toContain('koto-sim: seed 1008: detector geometry rejected (KOTO_FAIL_SEED)');
    }, 240_000);

    it('a run stopped by remove: the engine names the signal and exits 2; status and analyzer both say Failure (stopped)', async () => {
      const t = tempDir('engine-loaded-stop-');
      cleanup = t.cleanup;
      const { submitDir } = planKoto(t.dir, { jobs: 16, clusterSize: 8, site: 'slurm' });
      hog = cpuHog();
      const engine = start(['run', '--foreground', '-q', '--poll', '250', submitDir], {
        env: env({ KOTO_SLEEP: '2' }),
      });
      let r: Awaited<typeof engine.done>;
      try {
        await until(
          () =>
            existsSync(path.join(submitDir, 'jobstate.log')) &&
            jobstate(submitDir).some((f) => f[1]?.startsWith('merge_') && f[2] === 'EXECUTE'),
          120_000,
          'a clustered job to run on Slurm',
        );
        const removed = await pt(['remove', submitDir], { env: env() });
        expect(removed.stdout).toMatch(/stopped the engine/);
        r = await engine.done;
      } finally {
        engine.child.kill('SIGTERM'); // (a no-op once it has ended)
      }
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/stopping: received SIGTERM \(pegasus-ts remove, or a signal/);
      expect(r.stderr).toMatch(/engine finished: stopped/);
      const { status, root, analyzer } = await report(submitDir);
      expect(root.state).toBe('Failure');
      expect(status).toMatch(/ Failure \(stopped\) +koto-mc/);
      expect(analyzer.stdout).toMatch(/Workflow Status {4}: Failure \(stopped\): pegasus-ts remove/);
      expect(analyzer.code).toBe(1);
    }, 240_000);
  },
);
