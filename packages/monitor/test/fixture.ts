// Builds real submit dirs for the monitor's tests, following the engine's file contract
// (.tmp/ENGINE-FILES.md): the KOTO example planned by the real `pegasus-ts plan`, every job run
// for real through `pegasus-ts kickstart` (invocation records in invocations/JOB.NNN.yml,
// stdout/stderr in jobs/JOB.out|err.NNN), clustered jobs through the real `pegasus-ts
// mpi-cluster` (task records in clusters/JOB.dag.invocations.yml), and jobstate.log lines
// written the way the engine writes them. When the engine exists, `buildRun` can be replaced by
// `pegasus-ts run` on the same workflow.
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const BIN = join(ROOT, 'packages/cli/bin/pegasus-ts.js');

export type Scenario = 'success' | 'failure' | 'retry';

export interface Run {
  /** the temp dir holding everything (remove it with cleanup) */
  dir: string;
  submitDir: string;
  jobs: string[];
  cleanup(): void;
}

interface PlanYml {
  jobs: { name: string; kind: string; site: string; retries: number; dag?: string }[];
  edges: [string, string][];
}

function exec(
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string; pid: number }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', rej);
    child.on('close', (code) => res({ code: code ?? -1, stdout, stderr, pid: child.pid ?? 0 }));
  });
}

const now = () => Math.floor(Date.now() / 1000);

/** The failing task of the 'failure' scenario and the flaky one of 'retry'. */
export const FAILING_TASK = 'sim_00003';
export const FAILING_CLUSTER = 'merge_koto-koto-sim-1_0_PID1_ID1';

/**
 * Plans the KOTO example (12 simulations in 2 clusters + merge, data jobs; no cleanup) and runs
 * it. `success`: everything succeeds. `failure`: one task of a cluster fails every try (the
 * cluster job fails all 3 attempts; its descendants never run; the workflow fails). `retry`:
 * that task fails on the cluster job's first attempt and succeeds on the second.
 */
export async function buildRun(scenario: Scenario): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), `monitor-${scenario}-`));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    await new Promise<void>((res, rej) => {
      const c = spawn(
        process.execPath,
        [join(ROOT, 'examples/koto/build-workflow.mjs'), '--jobs', '12', '--out', dir],
        { stdio: 'ignore' },
      );
      c.on('close', (code) => (code === 0 ? res() : rej(new Error(`build-workflow exited ${code}`))));
    });
    const p = await exec(
      [
        'plan',
        '--dir',
        join(dir, 'submit'),
        '--relative-dir',
        'run0001',
        '--cluster',
        'horizontal',
        '--output-sites',
        'local',
        '--cleanup',
        'none',
        'workflow.yml',
      ],
      dir,
    );
    if (p.code !== 0) throw new Error(`plan failed: ${p.stderr}`);
    const submitDir = join(dir, 'submit/run0001');
    const plan = parse(readFileSync(join(submitDir, 'plan.yml'), 'utf8')) as PlanYml;
    mkdirSync(join(submitDir, 'invocations'));
    mkdirSync(join(submitDir, 'jobs'));
    mkdirSync(join(submitDir, 'work'));
    // The KOTO executables do not exist here: the tasks run small shell commands instead
    // (the #@ annotations, and so the transformations and abstract ids, are the planner's).
    for (const j of plan.jobs) {
      if (!j.dag) continue;
      const path = join(submitDir, j.dag);
      const text = readFileSync(path, 'utf8').replace(/^TASK (\S+) (.*)$/gm, (_m, name: string) => {
        if (name === FAILING_TASK && j.name === FAILING_CLUSTER && scenario === 'failure') {
          return `TASK ${name} -t 2 /bin/sh -c 'echo simulating ${name}; echo koto-sim: cannot open koto-geometry.gdml >&2; exit 3'`;
        }
        if (name === FAILING_TASK && j.name === FAILING_CLUSTER && scenario === 'retry') {
          return `TASK ${name} -t 1 /bin/sh -c 'if [ -f work/${name}.marker ]; then echo second try ok; else touch work/${name}.marker; echo first try fails >&2; exit 1; fi'`;
        }
        return `TASK ${name} -t 1 /bin/sh -c 'echo simulating ${name}'`;
      });
      writeFileSync(path, text);
    }
    const log = join(submitDir, 'jobstate.log');
    const line = (s: string) => appendFileSync(log, `${now()} ${s}\n`);
    line(`INTERNAL *** DAGMAN_STARTED ${process.pid} ***`);
    const parents = new Map<string, string[]>();
    for (const j of plan.jobs) parents.set(j.name, []);
    for (const [a, b] of plan.edges) parents.get(b)!.push(a);
    const done = new Set<string>();
    const failed = new Set<string>();
    const pending = new Set(plan.jobs.map((j) => j.name));
    const byName = new Map(plan.jobs.map((j) => [j.name, j]));
    while (pending.size > 0) {
      const ready = [...pending].filter((n) => parents.get(n)!.every((p) => done.has(p)));
      if (ready.length === 0) break;
      await Promise.all(
        ready.map(async (name) => {
          pending.delete(name);
          const ok = await runJob(submitDir, byName.get(name)!, line);
          (ok ? done : failed).add(name);
        }),
      );
    }
    line(`INTERNAL *** DAGMAN_FINISHED ${failed.size > 0 ? 1 : 0} ***`);
    return { dir, submitDir, jobs: plan.jobs.map((j) => j.name), cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}

/** Runs every attempt of one job as the engine does; true when it succeeded. */
async function runJob(
  submitDir: string,
  job: PlanYml['jobs'][number],
  line: (s: string) => void,
): Promise<boolean> {
  for (let seq = 1; seq <= job.retries + 1; seq++) {
    const nnn = String(seq - 1).padStart(3, '0');
    const site = job.site;
    line(`${job.name} SUBMIT - ${site} - ${seq}`);
    const t0 = Date.now();
    const app = job.dag
      ? [process.execPath, BIN, 'mpi-cluster', '--workers', '2', job.dag]
      : job.kind === 'compute'
        ? ['/bin/sh', '-c', `echo merging; echo merged > work/koto-merged.root`]
        : ['/bin/true'];
    const ks = [
      'kickstart',
      '-n',
      job.dag ? 'pegasus::mpiexec' : `pegasus::${job.kind}`,
      '-N',
      job.name,
      '-R',
      site,
      '-l',
      `invocations/${job.name}.${nnn}.yml`,
      '-o',
      `jobs/${job.name}.out.${nnn}`,
      '-e',
      `jobs/${job.name}.err.${nnn}`,
      '--',
      ...app,
    ];
    const started = exec(ks, submitDir);
    line(`${job.name} EXECUTE ${process.pid} ${site} - ${seq}`);
    const r = await started;
    const secs = ((Date.now() - t0) / 1000).toFixed(3);
    line(`${job.name} JOB_TERMINATED ${r.pid} ${site} - ${seq}`);
    line(`${job.name} ${r.code === 0 ? 'JOB_SUCCESS' : 'JOB_FAILURE'} ${r.code} ${site} ${secs} ${seq}`);
    line(`${job.name} POST_SCRIPT_STARTED - ${site} - ${seq}`);
    line(`${job.name} POST_SCRIPT_TERMINATED 0 ${site} - ${seq}`);
    if (r.code === 0) {
      line(`${job.name} POST_SCRIPT_SUCCESS 0 ${site} - ${seq}`);
      return true;
    }
    line(`${job.name} POST_SCRIPT_FAILURE ${r.code} ${site} - ${seq}`);
  }
  return false;
}

/** Files of a dir (for debugging a fixture). */
export function listDir(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).sort();
}
