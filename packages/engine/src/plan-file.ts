import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { EXEC_JOB_KINDS, type ExecJobKind } from '@pegasus-ts/model';
import type { PlanSiteUrl, PlanTransfer } from '@pegasus-ts/transfer';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { EngineError, failAt as fail } from './errors.js';
import { eachLine } from './internal/lines.js';
import { PlanLineReader, type RawPlan } from './internal/plan-line-reader.js';

export type { PlanSiteUrl, PlanTransfer };

/** What an executable job does (plan.yml `kind`). */
export type JobKind = ExecJobKind;

const KINDS: ReadonlySet<string> = new Set(EXEC_JOB_KINDS);

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

/**
 * Reads `<submitDir>/plan.yml`, the planner's executable workflow, streamed line by line (a plan
 * of 100,000s of jobs is read in seconds, in memory proportional to the jobs, not the text).
 * A file outside the planner's line layout is read as a whole YAML document instead. Every error
 * names the file, the line when known, and what was expected.
 */
export async function loadPlan(submitDir: string): Promise<Plan> {
  const file = join(submitDir, 'plan.yml');
  let raw: RawPlan | undefined;
  try {
    raw = await readPlanLines(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new EngineError(
        `${submitDir}: not a submit directory (no plan.yml; plan one with pegasus-ts plan)`,
      );
    if (e instanceof EngineError) throw e;
    throw new EngineError(`${file}: cannot read: ${(e as Error).message}`);
  }
  if (raw) return buildPlan(raw, file, submitDir);
  return parsePlan(await readFile(file, 'utf8'), file, submitDir);
}

/** Parses plan.yml text (pure; `file` names it in errors): the line reader, else full YAML. */
export function parsePlan(text: string, file: string, submitDir: string): Plan {
  const raw = readLayout(text, file) ?? parseDocumentRaw(text, file);
  return buildPlan(raw, file, submitDir);
}

/** Whether `text` is in the planner's line layout (read without a general YAML parser). */
export function inPlannerLayout(text: string): boolean {
  return readLayout(text, 'plan.yml') !== undefined;
}

function readLayout(text: string, file: string): RawPlan | undefined {
  const reader = new PlanLineReader(file);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) if (!reader.line(lines[i], i + 1)) return undefined;
  return reader.result();
}

/** Streams the file through the line reader; undefined when the layout is not the planner's. */
async function readPlanLines(file: string): Promise<RawPlan | undefined> {
  const reader = new PlanLineReader(file);
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let no = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const text = rest + decoder.write(chunk as Buffer);
    let ok = true;
    const end = eachLine(text, (line) => {
      if (ok) ok = reader.line(line, ++no);
    });
    if (!ok) return undefined;
    rest = text.slice(end);
  }
  rest += decoder.end();
  if (rest !== '' && !reader.line(rest, ++no)) return undefined;
  return reader.result();
}

/** The whole text as one YAML document (any layout; slower, more memory). */
function parseDocumentRaw(text: string, file: string): RawPlan {
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
  const jobsNode = root.get('jobs', true);
  const edgesNode = root.get('edges', true);
  const headerLines: Record<string, number> = {};
  for (const item of root.items) {
    const line = lineOf(item.key);
    if (line !== undefined) headerLines[String((item.key as { value?: unknown }).value)] = line;
  }
  const jobs = Array.isArray(top.jobs) ? (top.jobs as unknown[]) : [];
  const edges = Array.isArray(top.edges) ? (top.edges as unknown[]) : [];
  return {
    header: top,
    headerLines,
    jobsIsList: isSeq(jobsNode),
    jobsLine: lineOf(jobsNode),
    jobs: jobs.map((j, i) => ({
      fields: (j ?? {}) as Record<string, unknown>,
      line: isSeq(jobsNode) ? lineOf(jobsNode.items[i]) : undefined,
    })),
    edgesIsList: top.edges === undefined || Array.isArray(top.edges),
    edgesLine: lineOf(edgesNode),
    edges: edges.map((value, k) => ({
      value,
      line: isSeq(edgesNode) ? lineOf(edgesNode.items[k]) : undefined,
    })),
  };
}

/** Validates a read plan and builds the engine's Plan (indices, children, parent counts). */
function buildPlan(raw: RawPlan, file: string, submitDir: string): Plan {
  const top = raw.header;
  if (top.plan !== '1.0')
    fail(file, raw.headerLines.plan ?? 1, `plan format "${String(top.plan)}" (expected "1.0")`);
  if (!raw.jobsIsList) fail(file, raw.jobsLine, 'jobs: expected a list');
  const jobs: PlanJob[] = new Array(raw.jobs.length);
  const index = new Map<string, number>();
  for (let i = 0; i < raw.jobs.length; i++) {
    const { fields: r, line } = raw.jobs[i];
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
  if (!raw.edgesIsList) fail(file, raw.edgesLine, 'edges: expected a list of [parent, child]');
  for (const { value: e, line } of raw.edges) {
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
