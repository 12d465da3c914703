import { readFileSync } from 'node:fs';
import { LineReader } from '@pegasus-ts/io';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Checksum } from './common.js';
import { EXEC_JOB_KINDS, type ExecJobKind } from './exec-job-kind.js';
import { yamlFlow, yamlString } from './internal/flow-value.js';
import { PlanLineReader, type RawPlanOut } from './internal/plan-line-reader.js';
import { SUBMIT_FILES } from './submit-dir.js';

// plan.yml, the executable workflow: what the planner writes and the engine, the monitor and the
// transfer tool read. Its one home: the types, the writer and the (streaming) reader.

/** The plan.yml format version. */
export const PLAN_FORMAT = '1.0';
/** The executable workflow's file name in a submit dir. */
export const PLAN_FILE = SUBMIT_FILES.plan;

/** A `{site, url}` of a plan.yml job (transfer sources may carry the replica catalog's `checksum`). */
export interface PlanSiteUrl {
  site: string;
  url: string;
  checksum?: Checksum;
}

/** One item of a data job's `transfers`: sources in the order to try, one destination. */
export interface PlanTransfer {
  lfn: string;
  linkage: 'input' | 'output' | 'inter';
  sources: PlanSiteUrl[];
  dest: PlanSiteUrl;
}

/** One record a registration job adds to the output replica catalog. */
export interface PlanRegistration {
  lfn: string;
  url: string;
  site: string;
}

/** One job of plan.yml (see packages/model/README.md). Fields not used by a kind stay undefined. */
export interface PlanJob {
  name: string;
  kind: ExecJobKind;
  /** where the job runs (auxiliary jobs: `local`) */
  site: string;
  /** `ns::name:ver` (auxiliary jobs: `pegasus::transfer`, ...) */
  transformation: string;
  /** argv: executable first */
  command: string[];
  /** compute jobs: the abstract job id */
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
  /** create-dir: mkdir targets; cleanup: remove targets */
  targets?: PlanSiteUrl[];
  /** cleanup: remove recursively */
  recursive?: boolean;
  /** cluster jobs: `horizontal` or `label` */
  clustering?: string;
  /** cluster jobs: the .dag file, relative to the submit dir */
  dag?: string;
  /** cluster jobs: abstract ids of the tasks, in run order */
  tasks?: string[];
  /** cluster jobs on a Slurm site: the batch script, relative to the submit dir */
  sbatch?: string;
  /**
   * sub-workflow jobs: the sub-workflow's submit dir, relative to this submit dir (planned when the
   * job runs, by `pegasus-ts` with `command` as its arguments) or absolute (pre-planned, `command` empty)
   */
  subWorkflow?: string;
}

/** The header of plan.yml. */
export interface PlanHeader {
  label: string;
  wfUuid: string;
  /** the abstract workflow file */
  workflow: string;
  submitDir: string;
  relativeDir: string;
  timestamp: string;
  /** as written (a reader of another layout may leave them out) */
  jobCount?: number;
  edgeCount?: number;
}

/** A plan.yml that cannot be read: `FILE:LINE: what` (exit 1). `code`: the errno of a failed open. */
export class PlanFileError extends Error {
  readonly exitCode: number = 1;
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'PlanFileError';
  }
}

function fail(file: string, line: number | undefined, what: string): never {
  throw new PlanFileError(`${file}${line ? `:${line}` : ''}: ${what}`);
}

// ---- writer -------------------------------------------------------------------------------------

/** One transfer source: `{site, url}` plus `checksum: {sha256}` when there is one. */
function sourceText(src: PlanSiteUrl): string {
  let s = `{site: ${yamlString(src.site)}, url: ${yamlString(src.url)}`;
  if (src.checksum) s += `, checksum: ${yamlFlow(src.checksum)}`;
  return `${s}}`;
}

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

/** One job as a YAML sequence item, one flow value per line (compact, and quick to read back). */
export function planJobText(j: PlanJob): string {
  let s = `  - name: ${yamlString(j.name)}\n    kind: ${j.kind}\n    site: ${yamlString(j.site)}\n`;
  s += `    transformation: ${yamlString(j.transformation)}\n    command: ${yamlFlow(j.command)}\n`;
  if (j.id !== undefined) s += `    id: ${yamlString(j.id)}\n`;
  if (j.stagingSite !== undefined) s += `    stagingSite: ${yamlString(j.stagingSite)}\n`;
  if (j.dataConfiguration !== undefined) s += `    dataConfiguration: ${yamlString(j.dataConfiguration)}\n`;
  if (j.directory !== undefined) s += `    directory: ${yamlString(j.directory)}\n`;
  s += `    retries: ${j.retries}\n    priority: ${j.priority}\n`;
  if (j.inputs.length) s += `    inputs: ${yamlFlow(j.inputs)}\n`;
  if (j.outputs.length) s += `    outputs: ${yamlFlow(j.outputs)}\n`;
  if (j.stdin !== undefined) s += `    stdin: ${yamlString(j.stdin)}\n`;
  if (j.stdout !== undefined) s += `    stdout: ${yamlString(j.stdout)}\n`;
  if (j.stderr !== undefined) s += `    stderr: ${yamlString(j.stderr)}\n`;
  if (hasKeys(j.profiles)) s += `    profiles: ${yamlFlow(j.profiles)}\n`;
  if (j.transfers) {
    s += '    transfers:\n';
    for (const t of j.transfers) {
      s += `      - {lfn: ${yamlString(t.lfn)}, linkage: ${t.linkage}, sources: [${t.sources.map(sourceText).join(', ')}], dest: ${yamlFlow(t.dest)}}\n`;
    }
  }
  if (j.registrations) s += `    registrations: ${yamlFlow(j.registrations)}\n`;
  if (j.targets) s += `    targets: ${yamlFlow(j.targets)}\n    recursive: ${j.recursive ?? false}\n`;
  if (j.clustering !== undefined) s += `    clustering: ${yamlString(j.clustering)}\n`;
  if (j.dag !== undefined) s += `    dag: ${yamlString(j.dag)}\n`;
  if (j.tasks) s += `    tasks: ${yamlFlow(j.tasks)}\n`;
  if (j.sbatch !== undefined) s += `    sbatch: ${yamlString(j.sbatch)}\n`;
  if (j.subWorkflow !== undefined) s += `    subWorkflow: ${yamlString(j.subWorkflow)}\n`;
  return s;
}

/**
 * Writes plan.yml through `write`, streaming: the header, `jobs:` (`jobAt(0..jobCount-1)`, each
 * asked for once, in order) and `edges:` (`[parent, child]` names from `edgeAt(0..edgeCount-1)`).
 */
export function writePlan(
  header: PlanHeader,
  jobCount: number,
  jobAt: (i: number) => PlanJob,
  edgeCount: number,
  edgeAt: (k: number) => [string, string],
  write: (s: string) => void,
): void {
  write(`# PEGASUS-TS EXECUTABLE WORKFLOW\nplan: ${yamlString(PLAN_FORMAT)}\n`);
  write(`label: ${yamlString(header.label)}\nwf_uuid: ${yamlString(header.wfUuid)}\n`);
  write(`workflow: ${yamlString(header.workflow)}\nsubmitDir: ${yamlString(header.submitDir)}\n`);
  write(`relativeDir: ${yamlString(header.relativeDir)}\ntimestamp: ${yamlString(header.timestamp)}\n`);
  write(`jobCount: ${jobCount}\nedgeCount: ${edgeCount}\n`);
  write(jobCount ? 'jobs:\n' : 'jobs: []\n');
  for (let i = 0; i < jobCount; i++) write(planJobText(jobAt(i)));
  write(edgeCount ? 'edges:\n' : 'edges: []\n');
  for (let k = 0; k < edgeCount; k++) {
    const [p, c] = edgeAt(k);
    write(`  - [${yamlString(p)}, ${yamlString(c)}]\n`);
  }
}

// ---- reader -------------------------------------------------------------------------------------

/** Where a read plan goes: header first, then each job and each edge, in file order. */
export interface PlanSink {
  header(h: PlanHeader): void;
  /** `line`: where the job starts (undefined when unknown) */
  job(j: PlanJob, line: number | undefined): void;
  edge(parent: string, child: string, line: number | undefined): void;
  /**
   * The file turned out not to be in the planner's line layout: drop what was handed over, it is
   * read again as one YAML document.
   */
  reset(): void;
  /**
   * The job fields the sink uses: in the line layout the lines of other fields are skipped without
   * parsing them (quicker); those the reader checks are always read. All fields when absent.
   */
  readonly fields?: ReadonlySet<string>;
}

/** The job fields every read checks. */
const CHECKED_FIELDS = ['name', 'kind', 'site', 'command', 'retries', 'priority', 'dag', 'subWorkflow'];

/** How a plan.yml was read: line by line (the planner's layout) or as one YAML document. */
export type PlanReadMode = 'lines' | 'yaml';

/**
 * Reads plan.yml into `sink`, streaming: a file in the planner's line layout is read line by line
 * (memory flat in the file's size; a 100,000-job plan in seconds), each value through a parser for
 * the subset the writer uses; a file in any other YAML layout (written by hand) is read as one
 * document instead, after `sink.reset()`. Every job is checked (name, kind, site, command,
 * retries, ...) and every edge is a `[parent, child]` pair; a problem throws a PlanFileError
 * naming the file and line. Job names and edges are not checked against each other (the
 * caller's graph does that).
 */
export function readPlanFile(file: string, sink: PlanSink): PlanReadMode {
  let reader: LineReader;
  try {
    reader = new LineReader(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PlanFileError(`${file}: cannot read: ${(e as Error).message}`, code);
  }
  let inLayout = true;
  try {
    const lines = new PlanLineReader(checker(file, sink), fieldsOf(sink));
    for (let l = reader.next(); l !== undefined; l = reader.next()) {
      if (!lines.line(l, reader.lineNo)) {
        inLayout = false;
        break;
      }
    }
    if (inLayout) lines.end();
  } finally {
    reader.close();
  }
  if (inLayout) return 'lines';
  sink.reset();
  readDocument(readFileSync(file, 'utf8'), file, checker(file, sink));
  return 'yaml';
}

/** readPlanFile on text (pure; `file` names it in errors). */
export function parsePlanText(text: string, file: string, sink: PlanSink): PlanReadMode {
  if (readLayout(text, checker(file, sink), fieldsOf(sink))) return 'lines';
  sink.reset();
  readDocument(text, file, checker(file, sink));
  return 'yaml';
}

/** Whether `text` is in the planner's line layout (read without a general YAML parser). */
export function inPlannerLayout(text: string): boolean {
  const ignore: RawPlanOut = {
    header() {},
    job() {},
    edge() {},
    fail(line, what) {
      throw new PlanFileError(`plan.yml:${line}: ${what}`);
    },
  };
  return readLayout(text, ignore);
}

/** The job fields to read for `sink`: those it uses and those every read checks. */
function fieldsOf(sink: PlanSink): ReadonlySet<string> | undefined {
  return sink.fields && new Set([...CHECKED_FIELDS, ...sink.fields]);
}

function readLayout(text: string, out: RawPlanOut, fields?: ReadonlySet<string>): boolean {
  const reader = new PlanLineReader(out, fields);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) if (!reader.line(lines[i], i + 1)) return false;
  reader.end();
  return true;
}

/** The whole text as one YAML document (any layout; slower, more memory). */
function readDocument(text: string, file: string, out: RawPlanOut): void {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: false });
  if (doc.errors.length) {
    const e = doc.errors[0];
    fail(file, e.linePos?.[0].line, e.message.split('\n')[0]);
  }
  const lineOf = (node: unknown): number | undefined => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range ? counter.linePos(range[0]).line : undefined;
  };
  const root = doc.contents;
  if (!isMap(root)) fail(file, 1, 'expected a mapping with plan, label, jobs and edges');
  const top = root.toJSON() as Record<string, unknown>;
  const header: Record<string, unknown> = {};
  const headerLines: Record<string, number> = {};
  for (const item of root.items) {
    const key = String((item.key as { value?: unknown }).value);
    const line = lineOf(item.key);
    if (line !== undefined) headerLines[key] = line;
    if (key !== 'jobs' && key !== 'edges') header[key] = top[key];
  }
  out.header(header, headerLines);
  const jobsNode = root.get('jobs', true);
  if (!isSeq(jobsNode)) fail(file, lineOf(jobsNode) ?? headerLines.jobs, 'jobs: expected a list');
  const jobs = top.jobs as unknown[];
  for (let i = 0; i < jobs.length; i++)
    out.job((jobs[i] ?? {}) as Record<string, unknown>, lineOf(jobsNode.items[i]) ?? 0);
  const edgesNode = root.get('edges', true);
  if (top.edges === undefined) return;
  if (!isSeq(edgesNode))
    fail(file, lineOf(edgesNode) ?? headerLines.edges, 'edges: expected a list of [parent, child]');
  const edges = top.edges as unknown[];
  for (let k = 0; k < edges.length; k++) out.edge(edges[k], lineOf(edgesNode.items[k]) ?? 0);
}

const KINDS: ReadonlySet<string> = new Set(EXEC_JOB_KINDS);

/** Checks what a reader hands over and gives the sink typed values. */
function checker(file: string, sink: PlanSink): RawPlanOut {
  let jobNo = 0;
  return {
    header(top, lines) {
      if (top.plan !== PLAN_FORMAT)
        fail(file, lines.plan ?? 1, `plan format "${String(top.plan)}" (expected "${PLAN_FORMAT}")`);
      const opt = (k: string): number | undefined => (top[k] === undefined ? undefined : Number(top[k]));
      sink.header({
        label: String(top.label ?? 'workflow'),
        wfUuid: String(top.wf_uuid ?? ''),
        workflow: String(top.workflow ?? ''),
        submitDir: String(top.submitDir ?? ''),
        relativeDir: String(top.relativeDir ?? ''),
        timestamp: String(top.timestamp ?? ''),
        jobCount: opt('jobCount'),
        edgeCount: opt('edgeCount'),
      });
    },
    job(fields, line) {
      sink.job(planJobOf(fields, file, line || undefined, ++jobNo), line || undefined);
    },
    edge(e, line) {
      if (!Array.isArray(e) || e.length !== 2)
        fail(file, line || undefined, 'edge: expected [parent, child]');
      sink.edge(String(e[0]), String(e[1]), line || undefined);
    },
    fail(line, what) {
      fail(file, line, what);
    },
  };
}

/** A job's fields, checked, as a PlanJob (the `no`th job of the file). */
function planJobOf(r: Record<string, unknown>, file: string, line: number | undefined, no: number): PlanJob {
  const str = (k: string): string => {
    const v = r[k];
    if (typeof v !== 'string' || v === '')
      fail(file, line, `job ${typeof r.name === 'string' ? r.name : no}: ${k}: expected a non-empty string`);
    return v;
  };
  const name = str('name');
  const kind = str('kind');
  if (!KINDS.has(kind))
    fail(file, line, `job ${name}: kind "${kind}" (expected one of ${[...KINDS].join(', ')})`);
  const command = r.command;
  if (!Array.isArray(command) || command.some((a) => typeof a !== 'string' && typeof a !== 'number'))
    fail(file, line, `job ${name}: command: expected a list of strings`);
  const num = (k: string): number => {
    const v = r[k];
    if (v === undefined) return 0;
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
  const job: PlanJob = {
    name,
    kind: kind as ExecJobKind,
    site: str('site'),
    transformation: String(r.transformation ?? ''),
    command: (command as unknown[]).map(String),
    id: opt('id'),
    stagingSite: opt('stagingSite'),
    dataConfiguration: opt('dataConfiguration'),
    directory: opt('directory'),
    retries: num('retries'),
    priority: num('priority'),
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
    clustering: opt('clustering'),
    dag: opt('dag'),
    tasks: r.tasks === undefined ? undefined : list('tasks'),
    sbatch: opt('sbatch'),
    subWorkflow: opt('subWorkflow'),
  };
  if (kind === 'cluster' && !job.dag) fail(file, line, `job ${name}: a cluster job needs dag`);
  if (kind === 'sub-workflow' && !job.subWorkflow)
    fail(file, line, `job ${name}: a sub-workflow job needs subWorkflow (its submit dir)`);
  return job;
}
