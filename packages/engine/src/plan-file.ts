import { join } from 'node:path';
import {
  PLAN_FILE,
  PlanFileError,
  type PlanHeader,
  type PlanJob,
  type PlanSink,
  parsePlanText,
  readPlanFile,
} from '@pegasus-ts/model';
import { EngineError, failAt as fail } from './errors.js';

export type { PlanJob };

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
 * Reads `<submitDir>/plan.yml` with the model's streaming reader (a plan of 100,000s of jobs in
 * seconds, in memory proportional to the jobs, not the text) and builds the job graph: unique
 * names, edges between known jobs, no cycle. Every error names the file, the line when known, and
 * what was expected.
 */
export async function loadPlan(submitDir: string): Promise<Plan> {
  const file = join(submitDir, PLAN_FILE);
  const graph = new PlanGraph(file);
  try {
    readPlanFile(file, graph);
  } catch (e) {
    if (e instanceof PlanFileError && e.code === 'ENOENT')
      throw new EngineError(
        `${submitDir}: not a submit directory (no plan.yml; plan one with pegasus-ts plan)`,
      );
    throw e;
  }
  return graph.plan(submitDir);
}

/** Parses plan.yml text (pure; `file` names it in errors). */
export function parsePlan(text: string, file: string, submitDir: string): Plan {
  const graph = new PlanGraph(file);
  parsePlanText(text, file, graph);
  return graph.plan(submitDir);
}

/** The jobs and edges of a plan as they are read, checked against each other. */
class PlanGraph implements PlanSink {
  private header_: PlanHeader | undefined;
  private jobs: PlanJob[] = [];
  private index = new Map<string, number>();
  private children: number[][] = [];
  private parents: number[] = [];

  constructor(private readonly file: string) {}

  header(h: PlanHeader): void {
    this.header_ = h;
  }

  job(j: PlanJob, line: number | undefined): void {
    if (this.index.has(j.name)) fail(this.file, line, `job ${j.name}: name used twice`);
    this.index.set(j.name, this.jobs.length);
    this.jobs.push(j);
    this.children.push([]);
    this.parents.push(0);
  }

  edge(parent: string, child: string, line: number | undefined): void {
    const p = this.index.get(parent);
    const c = this.index.get(child);
    if (p === undefined) fail(this.file, line, `edge: unknown parent job ${parent}`);
    if (c === undefined) fail(this.file, line, `edge: unknown child job ${child}`);
    this.children[p].push(c);
    this.parents[c]++;
  }

  reset(): void {
    this.header_ = undefined;
    this.jobs = [];
    this.index = new Map();
    this.children = [];
    this.parents = [];
  }

  plan(submitDir: string): Plan {
    const parentCount = Int32Array.from(this.parents);
    const cyclic = firstInCycle(this.children, parentCount);
    if (cyclic !== undefined)
      fail(this.file, undefined, `edges: the jobs form a cycle (through ${this.jobs[cyclic].name})`);
    return {
      file: this.file,
      submitDir,
      label: this.header_?.label ?? 'workflow',
      wfUuid: this.header_?.wfUuid ?? '',
      jobs: this.jobs,
      children: this.children,
      parentCount,
      index: this.index,
    };
  }
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
