// Data management without a shared filesystem (issue 13): the KOTO workflow with
// pegasus.data.configuration=nonsharedfs, a staging site apart from the execution site, every
// directory distinct (submit dir, the submit host's scratch, the staging site, the node-local
// scratch root, the inputs, the outputs). Each compute job runs under `pegasus-ts lite`: a fresh
// scratch dir, inputs pulled from the staging site, outputs pushed back, the dir removed. The run
// is traced with strace, and no process of a task may open a path of the test's tree outside its
// scratch dir. The same workflow on the project's single-node Slurm when it answers.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { slurmTestEnv } from '../packages/engine/test/slurm-env.js';
import { BIN, pt, tempDir } from './helpers.js';
import { buildKoto, checkMerged, eventCounts, planJobs } from './koto-workflow.js';

const slurm = await slurmTestEnv();
const hasStrace = (() => {
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

/** sites.yml: `local` (the submit host), `staging` (its own dir) and the execution site. */
function writeSites(dir: string, exec: 'local' | 'slurm'): void {
  const d = (name: string) =>
    `{type: %, path: '${dir}/${name}', fileServers: [{url: 'file://${dir}/${name}', operation: all}]}`;
  const dirs = (...l: [string, string][]) => `[${l.map(([t, n]) => d(n).replace('%', t)).join(', ')}]`;
  const nodeScratch: [string, string] = ['localScratch', 'node-scratch'];
  const local = exec === 'local' ? [nodeScratch] : [];
  writeFileSync(
    path.join(dir, 'sites.yml'),
    [
      "pegasus: '5.0'",
      'sites:',
      `  - {name: local, directories: ${dirs(['sharedScratch', 'submit-scratch'], ['localStorage', 'outputs'], ...local)}, profiles: {env: {PATH: '/usr/local/bin:/usr/bin:/bin'}}}`,
      `  - {name: staging, directories: ${dirs(['sharedScratch', 'staging'])}, profiles: {pegasus: {auxillary.local: 'true'}}}`,
      ...(exec === 'slurm'
        ? [
            `  - {name: slurm, grids: [{type: batch, contact: localhost, scheduler: slurm, jobtype: compute}], directories: ${dirs(nodeScratch)}, profiles: {env: {PATH: '/usr/local/bin:/usr/bin:/bin'}}}`,
          ]
        : []),
      '',
    ].join('\n'),
  );
  mkdirSync(path.join(dir, 'node-scratch'));
}

/**
 * Plans the KOTO workflow (simulations clustered, merge alone) without a shared filesystem:
 * nonsharedfs with staging site `staging`, or condorio (files through the submit host's work dir).
 */
function planNonShared(
  dir: string,
  exec: 'local' | 'slurm',
  jobs: number,
  config: 'nonsharedfs' | 'condorio' = 'nonsharedfs',
): string {
  buildKoto(dir, { jobs, site: exec });
  writeSites(dir, exec);
  const out = execFileSync(
    process.execPath,
    [
      BIN,
      'plan',
      ...['--dir', path.join(dir, 'submit'), '--sites', exec],
      ...(config === 'nonsharedfs' ? ['--staging-site', `${exec}=staging`] : []),
      ...['--cluster', 'horizontal', '--output-sites', 'local'],
      ...['-D', `pegasus.data.configuration=${config}`, '-q', 'workflow.yml'],
    ],
    { cwd: dir, encoding: 'utf8' },
  );
  return out.trim().split('\n').pop() as string;
}

interface Trace {
  /** pids of the tasks' processes (the KOTO executables and everything they started) */
  taskPids: Set<string>;
  /** [pid, path] of every open/openat a traced process attempted */
  opens: [string, string][];
}

/** Reads `strace -f` output: the process tree from fork/clone results, opens, the tasks' execs. */
function readTrace(file: string): Trace {
  const children = new Map<string, string[]>();
  const roots: string[] = [];
  const opens: [string, string][] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const fork = /^(\d+)\s+(?:<\.\.\. )?(?:clone3?|v?fork)\b.*=\s+(\d+)\s*$/.exec(line);
    if (fork) {
      const l = children.get(fork[1]) ?? [];
      l.push(fork[2]);
      children.set(fork[1], l);
      continue;
    }
    const exec = /^(\d+)\s+execve\("([^"]+)"/.exec(line);
    if (exec && /\/koto-(sim|merge)$/.test(exec[2]) && !/= -1 /.test(line)) roots.push(exec[1]);
    const open = /^(\d+)\s+(?:open|openat)\((?:AT_FDCWD, |\d+, )?"([^"]+)"/.exec(line);
    if (open) opens.push([open[1], open[2]]);
  }
  const taskPids = new Set<string>();
  const walk = (p: string): void => {
    if (taskPids.has(p)) return;
    taskPids.add(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  for (const r of roots) walk(r);
  return { taskPids, opens };
}

/**
 * Runs a planned KOTO submit dir under `strace -f`, checks the merged output and the removed
 * scratch dirs, and that no task process opened a path of the test's tree outside the node-local
 * scratch root. Returns the trace.
 */
function runTraced(dir: string, submitDir: string, jobs: number): Trace {
  const traceFile = path.join(dir, 'strace.txt');
  execFileSync(
    'strace',
    [
      ...['-f', '-qq', '-o', traceFile, '-e', 'trace=execve,open,openat,clone,clone3,fork,vfork'],
      ...[process.execPath, BIN, 'run', '--foreground', '-q', submitDir],
    ],
    { stdio: 'ignore', timeout: 170_000 },
  );
  checkMerged(dir, jobs);
  for (const j of planJobs(submitDir))
    expect(eventCounts(submitDir, 'POST_SCRIPT_SUCCESS').get(j), j).toBe(1);
  // the job's named stdout went to its scratch dir and was staged out with the outputs
  expect(readFileSync(path.join(dir, 'outputs', 'merge.log'), 'utf8')).toContain('koto-merge');
  // scratch dirs are removed
  expect(readdirSync(path.join(dir, 'node-scratch'))).toEqual([]);
  const trace = readTrace(traceFile);
  const { taskPids, opens } = trace;
  expect(taskPids.size).toBeGreaterThanOrEqual(jobs + 1);
  const scratch = `${path.join(dir, 'node-scratch')}/`;
  const taskOpens = opens.filter(([pid]) => taskPids.has(pid));
  const inScratch = taskOpens.filter(([, p]) => p.startsWith(scratch) || !p.startsWith('/'));
  expect(inScratch.length).toBeGreaterThanOrEqual(jobs + 1);
  const outside = taskOpens.filter(([, p]) => p.startsWith(`${dir}/`) && !p.startsWith(scratch));
  expect(outside).toEqual([]);
  return trace;
}

describe('nonsharedfs: compute jobs in scratch dirs of their own', () => {
  it.skipIf(!hasStrace)(
    'runs KOTO with a separate staging site; no task opens a path of the run outside its scratch dir',
    async () => {
      const t = tempDir('data-nonshared-');
      cleanup = t.cleanup;
      const dir = t.dir;
      const submitDir = planNonShared(dir, 'local', 2);
      const lite = readdirSync(path.join(submitDir, 'lite')).sort();
      expect(lite).toEqual(['merge.json', 'sim_00000.json', 'sim_00001.json']);
      // the simulations are tasks of one clustered job, run in scratch dirs by the cluster runner's worker
      const dag = readFileSync(path.join(submitDir, 'clusters', `${planJobs(submitDir)[0]}.dag`), 'utf8');
      expect(dag).toContain(`pegasus-ts lite --spec ${submitDir}/lite/sim_00000.json -- `);
      const { taskPids, opens } = runTraced(dir, submitDir, 2);
      // the trace does see the run's other directories (the wrapper's and the transfers' opens)
      expect(opens.some(([pid, p]) => !taskPids.has(pid) && p.startsWith(`${dir}/staging/`))).toBe(true);
    },
    180_000,
  );

  it.skipIf(!hasStrace)(
    'condorio: KOTO with files through the submit host; no task opens a path of the run outside its scratch dir',
    async () => {
      const t = tempDir('data-condorio-');
      cleanup = t.cleanup;
      const dir = t.dir;
      const submitDir = planNonShared(dir, 'local', 2, 'condorio');
      // the staging site is the submit host's work dir: inputs come from it, outputs go back to it
      const work = `file://${dir}/submit-scratch/`;
      const spec = JSON.parse(readFileSync(path.join(submitDir, 'lite', 'merge.json'), 'utf8'));
      expect(spec.scratch).toBe(path.join(dir, 'node-scratch'));
      const urls = (l: { src_urls?: { url: string }[]; dest_urls?: { url: string }[] }[]) =>
        l.flatMap((x) => [...(x.src_urls ?? []), ...(x.dest_urls ?? [])]).map((u) => u.url);
      expect(urls(spec.inputs).length).toBeGreaterThanOrEqual(2);
      expect(urls([...spec.inputs, ...spec.outputs]).filter((u) => !u.startsWith(work))).toEqual([]);
      const { taskPids, opens } = runTraced(dir, submitDir, 2);
      // the wrappers and transfer jobs did go through the submit host's work dir, never the staging site's
      expect(opens.some(([pid, p]) => !taskPids.has(pid) && p.startsWith(`${dir}/submit-scratch/`))).toBe(
        true,
      );
      expect(opens.some(([, p]) => p.startsWith(`${dir}/staging/`))).toBe(false);
    },
    180_000,
  );

  it('lite specs name only the staging site; a bad spec is one line and exit 2', async () => {
    const t = tempDir('data-lite-bad-');
    cleanup = t.cleanup;
    const spec = path.join(t.dir, 'bad.json');
    writeFileSync(
      spec,
      '{"job": "j", "inputs": [{"lfn": "../../etc/passwd", "src_urls": []}], "outputs": []}',
    );
    const r = await pt(['lite', '--spec', spec, '--', '/bin/true']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `pegasus-ts lite: ${spec}: inputs[0].lfn: "../../etc/passwd" leaves the scratch dir (expected a relative path without "..")`,
    );
  });
});

describe('checkpoint files (pegasus-ts lite)', () => {
  it('TERM at checkpoint.time, the checkpoint staged back on exit and in again on the retry, which resumes from it', async () => {
    const t = tempDir('data-ckpt-');
    cleanup = t.cleanup;
    const staging = path.join(t.dir, 'staging');
    const scratch = path.join(t.dir, 'scratch');
    mkdirSync(staging);
    mkdirSync(scratch);
    // counts its attempts in state.ckpt; the first one would run for a minute, the second finishes
    const task = path.join(t.dir, 'task.sh');
    writeFileSync(
      task,
      [
        '#!/bin/sh',
        'n=$(cat state.ckpt 2>/dev/null || echo 0); n=$((n + 1)); echo $n > state.ckpt',
        'if [ $n -lt 2 ]; then sleep 60; fi',
        'echo "finished in attempt $n" > result.txt',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const url = (lfn: string) => [{ site_label: 'staging', url: `file://${staging}/${lfn}` }];
    const spec = path.join(t.dir, 'job.json');
    writeFileSync(
      spec,
      JSON.stringify({
        job: 'ck',
        scratch,
        termAfter: 1,
        killAfter: 30,
        inputs: [],
        outputs: [{ lfn: 'result.txt', dest_urls: url('result.txt') }],
        checkpoints: [{ lfn: 'state.ckpt', dest_urls: url('state.ckpt') }],
      }),
    );
    const t0 = Date.now();
    const first = await pt(['lite', '--spec', spec, '--', task]);
    expect(first.code).toBe(143); // SIGTERM at checkpoint.time
    expect(Date.now() - t0).toBeLessThan(30_000); // not the minute the task wanted
    expect(readFileSync(path.join(staging, 'state.ckpt'), 'utf8')).toBe('1\n'); // staged back on exit
    expect(existsSync(path.join(staging, 'result.txt'))).toBe(false);
    const retry = await pt(['lite', '--spec', spec, '--', task]);
    expect(retry.code).toBe(0);
    expect(readFileSync(path.join(staging, 'result.txt'), 'utf8')).toBe('finished in attempt 2\n');
    expect(readFileSync(path.join(staging, 'state.ckpt'), 'utf8')).toBe('2\n');
    expect(readdirSync(scratch)).toEqual([]);
  }, 60_000);

  it('a clustered task: TERM at checkpoint.time, retried by the cluster runner (-t 2), resumes from its checkpoint', async () => {
    const t = tempDir('data-ckpt-pmc-');
    cleanup = t.cleanup;
    const staging = path.join(t.dir, 'staging');
    const scratch = path.join(t.dir, 'scratch');
    mkdirSync(staging);
    mkdirSync(scratch);
    const task = path.join(t.dir, 'task.sh');
    writeFileSync(
      task,
      [
        '#!/bin/sh',
        'n=$(cat state.ckpt 2>/dev/null || echo 0); n=$((n + 1)); echo $n > state.ckpt',
        'if [ $n -lt 2 ]; then sleep 60; fi',
        'echo "finished in attempt $n" > result.txt',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const url = (lfn: string) => [{ site_label: 'staging', url: `file://${staging}/${lfn}` }];
    const spec = path.join(t.dir, 'ck.json');
    writeFileSync(
      spec,
      JSON.stringify({
        job: 'ck',
        scratch,
        termAfter: 1,
        inputs: [],
        outputs: [{ lfn: 'result.txt', dest_urls: url('result.txt') }],
        checkpoints: [{ lfn: 'state.ckpt', dest_urls: url('state.ckpt') }],
      }),
    );
    const dag = path.join(t.dir, 'ck.dag');
    writeFileSync(dag, `TASK ck -t 2 pegasus-ts lite --spec ${spec} -- ${task}\n`);
    const r = await pt(['mpi-cluster', '--workers', '1', '--no-resource-log', dag]);
    expect(r.code).toBe(0);
    expect(readFileSync(path.join(staging, 'result.txt'), 'utf8')).toBe('finished in attempt 2\n');
    expect(readdirSync(scratch)).toEqual([]);
  }, 60_000);
});

describe.skipIf(slurm.skip !== undefined)(
  `nonsharedfs on Slurm${slurm.skip ? ` (skipped: ${slurm.skip})` : ''}`,
  () => {
    it('runs KOTO with the jobs on the Slurm site and files only through the staging site', async () => {
      const t = tempDir('data-nonshared-slurm-');
      cleanup = t.cleanup;
      const dir = t.dir;
      const submitDir = planNonShared(dir, 'slurm', 4);
      const r = await pt(['run', '--foreground', '-q', '--poll', '250', submitDir], {
        env: { SLURM_CONF: slurm.env.SLURM_CONF ?? '' },
      });
      expect(r.stderr).toContain('workflow succeeded');
      expect(r.code).toBe(0);
      checkMerged(dir, 4);
      expect(existsSync(path.join(dir, 'node-scratch'))).toBe(true);
      expect(readdirSync(path.join(dir, 'node-scratch'))).toEqual([]);
    }, 300_000);

    it('condorio: the Slurm jobs pull from and push to the submit host work dir, never the staging site', async () => {
      const t = tempDir('data-condorio-slurm-');
      cleanup = t.cleanup;
      const dir = t.dir;
      const submitDir = planNonShared(dir, 'slurm', 3, 'condorio');
      const r = await pt(['run', '--foreground', '-q', '--poll', '250', submitDir], {
        env: { SLURM_CONF: slurm.env.SLURM_CONF ?? '' },
      });
      expect(r.stderr).toContain('workflow succeeded');
      expect(r.code).toBe(0);
      checkMerged(dir, 3);
      expect(readdirSync(path.join(dir, 'node-scratch'))).toEqual([]);
      // the intermediate files went through the submit host's work dir (removed by the cleanup
      // jobs since); the staging site was not used
      expect(existsSync(path.join(dir, 'staging'))).toBe(false);
      const merge = readFileSync(path.join(submitDir, 'lite', 'merge.json'), 'utf8');
      expect(merge).toContain(`"url":"file://${dir}/submit-scratch/`);
      expect(merge).not.toContain(`${dir}/staging`);
    }, 300_000);
  },
);
