import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PlanSiteUrl, PlanTransfer } from '@pegasus-ts/transfer';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { EngineError } from './errors.js';

export type { PlanSiteUrl, PlanTransfer };

/** What an executable job does (plan.yml `kind`). */
export type JobKind =
  | 'compute'
  | 'cluster'
  | 'stage-in'
  | 'stage-out'
  | 'inter-site'
  | 'create-dir'
  | 'cleanup'
  | 'registration'
  | 'noop';

const KINDS: ReadonlySet<string> = new Set([
  'compute',
  'cluster',
  'stage-in',
  'stage-out',
  'inter-site',
  'create-dir',
  'cleanup',
  'registration',
  'noop',
]);

export interface PlanRegistration {
  lfn: string;
  url: string;
  site: string;
}

/** One job of plan.yml (see packages/planner/README.md). */
export interface PlanJob {
  name: string;
  kind: JobKind;
  site: string;
  transformation: string;
  command: string[];
  id?: string;
  stagingSite?: string;
  dataConfiguration?: string;
  directory?: string;
  retries: number;
  priority: number;
  inputs: string[];
  outputs: string[];
  stdin?: string;
  stdout?: string;
  stderr?: string;
  profiles: Record<string, Record<string, unknown>>;
  transfers?: PlanTransfer[];
  registrations?: PlanRegistration[];
  targets?: PlanSiteUrl[];
  recursive?: boolean;
  /** cluster jobs: the .dag file, relative to the submit dir */
  dag?: string;
  tasks?: string[];
  /** cluster jobs on a Slurm site: the batch script, relative to the submit dir */
  sbatch?: string;
}

/** The executable workflow the engine drives. Edges as parent/child index lists. */
export interface Plan {
  file: string;
  submitDir: string;
  label: string;
  wfUuid: string;
  jobs: PlanJob[];
  /** children[i]: indices of the jobs that depend on job i */
  children: number[][];
  /** parentCount[i]: how many jobs job i depends on */
  parentCount: Int32Array;
  index: Map<string, number>;
}

function fail(file: string, line: number | undefined, what: string): never {
  throw new EngineError(`${file}${line ? `:${line}` : ''}: ${what}`);
}

/**
 * Reads `<submitDir>/plan.yml`, the planner's executable workflow. Every error names the file,
 * the line when known, and what was expected.
 */
export async function loadPlan(submitDir: string): Promise<Plan> {
  const file = join(submitDir, 'plan.yml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new EngineError(
        `${submitDir}: not a submit directory (no plan.yml; plan one with pegasus-ts plan)`,
      );
    throw new EngineError(`${file}: cannot read: ${(e as Error).message}`);
  }
  return parsePlan(text, file, submitDir);
}

/** Parses plan.yml text (pure; `file` names it in errors). */
export function parsePlan(text: string, file: string, submitDir: string): Plan {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  if (doc.errors.length) {
    const e = doc.errors[0];
    fail(file, e.linePos?.[0].line, e.message.split('\n')[0]);
  }
  const lineOf = (node: unknown): number | undefined => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range ? lines.linePos(range[0]).line : undefined;
  };
  const root = doc.contents;
  if (!isMap(root)) fail(file, 1, 'expected a mapping with plan, label, jobs and edges');
  const top = root.toJSON() as Record<string, unknown>;
  if (top.plan !== '1.0')
    fail(file, lineOf(root.get('plan', true)), `plan format "${String(top.plan)}" (expected "1.0")`);
  const jobsNode = root.get('jobs', true);
  if (!isSeq(jobsNode)) fail(file, lineOf(jobsNode), 'jobs: expected a list');
  const rawJobs = top.jobs as Record<string, unknown>[];
  const jobs: PlanJob[] = new Array(rawJobs.length);
  const index = new Map<string, number>();
  for (let i = 0; i < rawJobs.length; i++) {
    const r = rawJobs[i];
    const line = lineOf(jobsNode.items[i]);
    const str = (k: string): string => {
      const v = r[k];
      if (typeof v !== 'string' || v === '')
        fail(
          file,
          line,
          `job ${typeof r.name === 'string' ? r.name : i + 1}: ${k}: expected a non-empty string`,
        );
      return v;
    };
    const name = str('name');
    const kind = str('kind');
    if (!KINDS.has(kind))
      fail(file, line, `job ${name}: kind "${kind}" (expected one of ${[...KINDS].join(', ')})`);
    if (index.has(name)) fail(file, line, `job ${name}: name used twice`);
    const command = r.command;
    if (!Array.isArray(command) || command.some((a) => typeof a !== 'string' && typeof a !== 'number'))
      fail(file, line, `job ${name}: command: expected a list of strings`);
    const num = (k: string, dflt: number): number => {
      const v = r[k];
      if (v === undefined) return dflt;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
        fail(file, line, `job ${name}: ${k}: expected a non-negative integer`);
      return v;
    };
    const list = (k: string): string[] => {
      const v = r[k];
      if (v === undefined) return [];
      if (!Array.isArray(v)) fail(file, line, `job ${name}: ${k}: expected a list`);
      return v.map(String);
    };
    const opt = (k: string): string | undefined => (r[k] === undefined ? undefined : String(r[k]));
    jobs[i] = {
      name,
      kind: kind as JobKind,
      site: str('site'),
      transformation: String(r.transformation ?? ''),
      command: (command as unknown[]).map(String),
      id: opt('id'),
      stagingSite: opt('stagingSite'),
      dataConfiguration: opt('dataConfiguration'),
      directory: opt('directory'),
      retries: num('retries', 0),
      priority: num('priority', 0),
      inputs: list('inputs'),
      outputs: list('outputs'),
      stdin: opt('stdin'),
      stdout: opt('stdout'),
      stderr: opt('stderr'),
      profiles: (r.profiles as PlanJob['profiles']) ?? {},
      transfers: r.transfers as PlanTransfer[] | undefined,
      registrations: r.registrations as PlanRegistration[] | undefined,
      targets: r.targets as PlanSiteUrl[] | undefined,
      recursive: r.recursive === true,
      dag: opt('dag'),
      tasks: r.tasks === undefined ? undefined : list('tasks'),
      sbatch: opt('sbatch'),
    };
    if (kind === 'cluster' && !jobs[i].dag) fail(file, line, `job ${name}: a cluster job needs dag`);
    index.set(name, i);
  }
  const children: number[][] = jobs.map(() => []);
  const parentCount = new Int32Array(jobs.length);
  const edgesNode = root.get('edges', true);
  const edges = top.edges ?? [];
  if (!Array.isArray(edges)) fail(file, lineOf(edgesNode), 'edges: expected a list of [parent, child]');
  for (let k = 0; k < edges.length; k++) {
    const e = edges[k];
    const line = isSeq(edgesNode) ? lineOf(edgesNode.items[k]) : undefined;
    if (!Array.isArray(e) || e.length !== 2) fail(file, line, 'edge: expected [parent, child]');
    const p = index.get(String(e[0]));
    const c = index.get(String(e[1]));
    if (p === undefined) fail(file, line, `edge: unknown parent job ${String(e[0])}`);
    if (c === undefined) fail(file, line, `edge: unknown child job ${String(e[1])}`);
    children[p].push(c);
    parentCount[c]++;
  }
  const cyclic = firstInCycle(children, parentCount);
  if (cyclic !== undefined)
    fail(file, undefined, `edges: the jobs form a cycle (through ${jobs[cyclic].name})`);
  return {
    file,
    submitDir,
    label: String(top.label ?? 'workflow'),
    wfUuid: String(top.wf_uuid ?? ''),
    jobs,
    children,
    parentCount,
    index,
  };
}

/** Kahn's algorithm: undefined when acyclic, else a job on a cycle (or after one). */
function firstInCycle(children: number[][], parentCount: Int32Array): number | undefined {
  const left = Int32Array.from(parentCount);
  const stack: number[] = [];
  for (let i = 0; i < left.length; i++) if (left[i] === 0) stack.push(i);
  let seen = 0;
  while (stack.length) {
    const i = stack.pop() as number;
    seen++;
    for (const c of children[i]) if (--left[c] === 0) stack.push(c);
  }
  if (seen === left.length) return undefined;
  for (let i = 0; i < left.length; i++) if (left[i] > 0) return i;
  return undefined;
}
