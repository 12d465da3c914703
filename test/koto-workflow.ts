// Builds and plans the KOTO example (examples/koto) into a temp dir, for the engine's e2e tests.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, ROOT } from './helpers.js';

export interface KotoPlan {
  /** the workflow dir (catalogs, inputs/, outputs/ after stage-out) */
  dir: string;
  submitDir: string;
}

/**
 * Writes the KOTO workflow (`jobs` simulations + 1 merge) and plans it with horizontal clustering
 * (`clusterSize` tasks per clustered job), stage-out and registration to `local`.
 */
export function planKoto(dir: string, o: KotoOptions = { jobs: 10 }): KotoPlan {
  buildKoto(dir, o);
  const submitDir = execFileSync(
    process.execPath,
    [BIN, ...planArgs(dir, o.site ?? 'local'), ...(o.extra ?? []), 'workflow.yml'],
    {
      cwd: dir,
      encoding: 'utf8',
    },
  );
  return { dir, submitDir: submitDir.trim().split('\n').pop() as string };
}

export interface KotoOptions {
  jobs: number;
  clusterSize?: number;
  site?: 'local' | 'slurm';
  walltime?: number;
  extra?: string[];
}

/** Writes the KOTO workflow, its catalogs and inputs into `dir` (examples/koto/build-workflow.mjs). */
export function buildKoto(dir: string, o: KotoOptions): void {
  execFileSync(process.execPath, [
    path.join(ROOT, 'examples/koto/build-workflow.mjs'),
    ...['--jobs', String(o.jobs), '--out', dir, '--site', o.site ?? 'local'],
    ...['--cluster-size', String(o.clusterSize ?? 10)],
    ...(o.walltime ? ['--walltime', String(o.walltime)] : []),
  ]);
}

/** `plan` arguments for the KOTO workflow in `dir` (without the workflow file): clustered, output site local. */
export function planArgs(dir: string, site: 'local' | 'slurm'): string[] {
  return [
    'plan',
    '--dir',
    path.join(dir, 'submit'),
    '--sites',
    site,
    '--cluster',
    'horizontal',
    '--output-sites',
    'local',
    '-q',
  ];
}

/** jobstate.log lines, split into fields. */
export function jobstate(submitDir: string): string[][] {
  return readFileSync(path.join(submitDir, 'jobstate.log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(' '));
}

/** How many times each job reached `event` in jobstate.log. */
export function eventCounts(submitDir: string, event: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const f of jobstate(submitDir)) if (f[2] === event) m.set(f[1], (m.get(f[1]) ?? 0) + 1);
  return m;
}

/** The job names of plan.yml. */
export function planJobs(submitDir: string): string[] {
  return [...readFileSync(path.join(submitDir, 'plan.yml'), 'utf8').matchAll(/^ {2}- name: (\S+)$/gm)].map(
    (m) => m[1].replace(/^"|"$/g, ''),
  );
}

/** Lines of the KOTO run log (`sim SEED` / `merge`, one per finished run), counted. */
export function runCounts(file: string): Map<string, number> {
  const m = new Map<string, number>();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return m;
  }
  for (const l of text.split('\n')) if (l) m.set(l, (m.get(l) ?? 0) + 1);
  return m;
}

/** Expected content check of koto-merged.root: one line per simulation and the merge summary. */
export function checkMerged(dir: string, jobs: number): void {
  const lines = readFileSync(path.join(dir, 'outputs', 'koto-merged.root'), 'utf8')
    .trim()
    .split('\n');
  if (lines.length !== jobs + 1)
    throw new Error(`koto-merged.root has ${lines.length} lines, expected ${jobs + 1}`);
  let hits = 0;
  for (let i = 0; i < jobs; i++) {
    const m = /^koto-sim seed=(\d+) events=10000 hits=(\d+) geometry=\d+$/.exec(lines[i]);
    if (!m || Number(m[1]) !== 1000 + i) throw new Error(`koto-merged.root line ${i + 1}: ${lines[i]}`);
    hits += Number(m[2]);
  }
  if (lines[jobs] !== `koto-merge files=${jobs} hits=${hits}`)
    throw new Error(`koto-merged.root summary: ${lines[jobs]}`);
}

/** Live processes whose command line mentions `marker`. */
export function processesMentioning(marker: string): number[] {
  const found: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'latin1');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue;
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(marker)) found.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return found;
}

/** Task ids marked DONE in a cluster's rescue log. */
export function rescueDone(dagFile: string): Set<string> {
  const done = new Set<string>();
  let text = '';
  try {
    text = readFileSync(`${dagFile}.rescue`, 'utf8');
  } catch {
    return done;
  }
  for (const m of text.matchAll(/^DONE (\S+)$/gm)) done.add(m[1]);
  return done;
}
