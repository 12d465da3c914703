import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { MonitorError } from './errors.js';
import { LineReader } from './internal/line-reader.js';
import { flowList, scalar } from './internal/yaml-scalars.js';

/** The plan.yml header fields the monitor keeps. */
export interface PlanHeader {
  label: string;
  wfUuid: string;
  submitDir: string;
  timestamp: string;
  workflow: string;
  jobCount: number;
  edgeCount: number;
}

/** One job of plan.yml (the fields the monitor keeps). */
export interface PlanJob {
  name: string;
  kind: string;
  site: string;
  transformation: string;
  command: string[];
  /** compute jobs: the abstract job id */
  id?: string;
  retries: number;
  /** cluster jobs: the .dag file, relative to the submit dir */
  dag?: string;
  /** cluster jobs: abstract ids in run order */
  tasks?: string[];
  inputs: string[];
  outputs: string[];
  /** pegasus profile `cores` (the stampede multiplier factor), 1 when absent */
  cores: number;
}

export interface PlanSink {
  header(h: PlanHeader): void;
  job(j: PlanJob): void;
  edge(parent: string, child: string): void;
}

class NotStreamable extends Error {}

const CORES = /\bpegasus: \{[^{}]*?\bcores: "?(\d+)/;

function newJob(name: string): PlanJob {
  return {
    name,
    kind: 'compute',
    site: 'local',
    transformation: '',
    command: [],
    retries: 0,
    inputs: [],
    outputs: [],
    cores: 1,
  };
}

function need<T>(v: T | undefined): T {
  if (v === undefined) throw new NotStreamable();
  return v;
}

/**
 * Reads plan.yml and hands its header, jobs and edges to `sink`, streaming: the planner's own
 * layout is read line by line (flat memory at a million jobs); a plan.yml in any other YAML
 * layout is read with the `yaml` package instead (the whole file in memory). Returns
 * 'stream' or 'yaml' (which reader was used). With the yaml fallback, `reset` is called first
 * so the sink can drop what the streaming attempt already gave it.
 */
export function readPlan(path: string, sink: PlanSink, reset: () => void): 'stream' | 'yaml' {
  try {
    streamPlan(path, sink);
    return 'stream';
  } catch (err) {
    if (!(err instanceof NotStreamable)) throw err;
  }
  reset();
  yamlPlan(path, sink);
  return 'yaml';
}

function streamPlan(path: string, sink: PlanSink): void {
  let reader: LineReader;
  try {
    reader = new LineReader(path);
  } catch (err) {
    throw new MonitorError(`${path}: cannot read the plan (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  try {
    const head: Record<string, string> = {};
    let section: 'top' | 'jobs' | 'edges' = 'top';
    let job: PlanJob | undefined;
    let headerSent = false;
    const sendHeader = () => {
      if (headerSent) return;
      headerSent = true;
      if (head.plan === undefined) throw new NotStreamable();
      sink.header({
        label: head.label ?? '',
        wfUuid: head.wf_uuid ?? '',
        submitDir: head.submitDir ?? '',
        timestamp: head.timestamp ?? '',
        workflow: head.workflow ?? '',
        jobCount: Number(head.jobCount ?? 0),
        edgeCount: Number(head.edgeCount ?? 0),
      });
    };
    const flush = () => {
      if (job) sink.job(job);
      job = undefined;
    };
    for (let line = reader.next(); line !== undefined; line = reader.next()) {
      if (line === '' || line.startsWith('#')) continue;
      const c0 = line.charCodeAt(0);
      if (c0 !== 32) {
        // a top-level key
        flush();
        const colon = line.indexOf(': ');
        const key = colon < 0 ? line.replace(/:$/, '') : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 2);
        if (key === 'jobs' || key === 'edges') {
          sendHeader();
          section = key;
          if (value !== '' && value.trim() !== '[]') throw new NotStreamable();
          continue;
        }
        if (colon < 0) throw new NotStreamable();
        section = 'top';
        head[key] = need(scalar(value));
        continue;
      }
      if (section === 'jobs') {
        if (line.startsWith('  - name: ')) {
          flush();
          job = newJob(need(scalar(line.slice(10))));
          continue;
        }
        if (line.startsWith('      ')) continue; // inside a block list (transfers)
        if (!line.startsWith('    ') || job === undefined) throw new NotStreamable();
        const colon = line.indexOf(':', 4);
        if (colon < 0) throw new NotStreamable();
        const key = line.slice(4, colon);
        const value = line.slice(colon + 1).trim();
        switch (key) {
          case 'kind':
            job.kind = need(scalar(value));
            break;
          case 'site':
            job.site = need(scalar(value));
            break;
          case 'transformation':
            job.transformation = need(scalar(value));
            break;
          case 'command':
            job.command = need(flowList(value));
            break;
          case 'id':
            job.id = need(scalar(value));
            break;
          case 'retries':
            job.retries = Number(need(scalar(value)));
            break;
          case 'dag':
            job.dag = need(scalar(value));
            break;
          case 'tasks':
            job.tasks = need(flowList(value));
            break;
          case 'inputs':
            job.inputs = need(flowList(value));
            break;
          case 'outputs':
            job.outputs = need(flowList(value));
            break;
          case 'profiles': {
            const m = CORES.exec(value);
            if (m) job.cores = Math.max(1, Number(m[1]));
            break;
          }
          default:
            break;
        }
        continue;
      }
      if (section === 'edges') {
        if (!line.startsWith('  - ')) throw new NotStreamable();
        const pair = need(flowList(line.slice(4)));
        if (pair.length !== 2) throw new NotStreamable();
        sink.edge(pair[0], pair[1]);
        continue;
      }
      throw new NotStreamable();
    }
    flush();
    sendHeader();
  } finally {
    reader.close();
  }
}

type Obj = Record<string, unknown>;

const str = (v: unknown, d = ''): string => (v === undefined || v === null ? d : String(v));
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.map((x) => String(x)) : []);

function yamlPlan(path: string, sink: PlanSink): void {
  let doc: Obj;
  try {
    doc = parse(readFileSync(path, 'utf8')) as Obj;
  } catch (err) {
    throw new MonitorError(`${path}: not a plan.yml (${(err as Error).message.split('\n')[0]})`);
  }
  if (!doc || typeof doc !== 'object' || doc.plan === undefined) {
    throw new MonitorError(`${path}:1: not a plan.yml (expected a mapping with "plan", "jobs" and "edges")`);
  }
  const jobs = Array.isArray(doc.jobs) ? (doc.jobs as Obj[]) : [];
  const edges = Array.isArray(doc.edges) ? (doc.edges as unknown[][]) : [];
  sink.header({
    label: str(doc.label),
    wfUuid: str(doc.wf_uuid),
    submitDir: str(doc.submitDir),
    timestamp: str(doc.timestamp),
    workflow: str(doc.workflow),
    jobCount: Number(doc.jobCount ?? jobs.length),
    edgeCount: Number(doc.edgeCount ?? edges.length),
  });
  for (const j of jobs) {
    const p = (j.profiles as Obj | undefined)?.pegasus as Obj | undefined;
    sink.job({
      name: str(j.name),
      kind: str(j.kind, 'compute'),
      site: str(j.site, 'local'),
      transformation: str(j.transformation),
      command: strs(j.command),
      id: j.id === undefined ? undefined : str(j.id),
      retries: Number(j.retries ?? 0),
      dag: j.dag === undefined ? undefined : str(j.dag),
      tasks: Array.isArray(j.tasks) ? strs(j.tasks) : undefined,
      inputs: strs(j.inputs),
      outputs: strs(j.outputs),
      cores: Math.max(1, Number(p?.cores ?? 1) || 1),
    });
  }
  for (const e of edges) {
    if (Array.isArray(e) && e.length === 2) sink.edge(String(e[0]), String(e[1]));
  }
}
