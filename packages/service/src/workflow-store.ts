import {
  type Db,
  listWorkflows,
  openMonitor,
  queryStatus,
  querySummary,
  type StatusCounts,
  type WorkflowHeader,
  type WorkflowRun,
  workflowInfo,
  workflowRun,
} from '@pegasus-ts/monitor';
import { ServiceError } from './errors.js';
import {
  findRegisteredWorkflow,
  listRegisteredWorkflows,
  type RegisteredWorkflow,
} from './workflow-registry.js';

/** A registered workflow with its provenance database open. */
export interface OpenWorkflow {
  readonly reg: RegisteredWorkflow;
  readonly submitDir: string;
  readonly db: Db;
}

/** A row of the workflow list. */
export interface WorkflowListRow {
  id: number;
  label: string;
  submitHost: string;
  submitDir: string;
  user: string;
  state: WorkflowRun['state'] | 'Unavailable';
  /** the plan's timestamp (or the registration time), seconds since the epoch */
  submittedOn: number;
  /** why the workflow cannot be read (state Unavailable) */
  error?: string;
}

/** The workflow page's header. */
export interface WorkflowSummary {
  id: number;
  label: string;
  wfUuid: string;
  user: string | null;
  submitHost: string;
  submitDir: string;
  state: WorkflowRun['state'];
  lost: boolean;
  progress: StatusCounts;
  /** seconds: engine start to end, summed over restarts (statistics' workflow wall time) */
  wallTime: number;
  /** seconds: the sum of kickstart durations (statistics' cumulative job wall time) */
  cumulativeWallTime: number;
  subWorkflows: WorkflowHeader[];
}

/** Pegasus timestamps (`20260101T000000+0000`, or ISO) as seconds since the epoch, else undefined. */
function planTime(ts: string | null | undefined): number | undefined {
  if (!ts) return undefined;
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)([+-]\d{4}|Z)?$/.exec(ts);
  const iso = m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] === undefined ? 'Z' : m[7]}` : ts;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t / 1000;
}

/**
 * The service's view of the master database: registered workflows, each database opened once
 * (one ingest pass first, as `statistics` does, so a finished run's last events are in) and kept
 * open; queries see the engine's new rows as it writes them (WAL).
 */
export class WorkflowStore {
  private readonly open = new Map<number, OpenWorkflow>();
  private readonly opening = new Map<number, Promise<OpenWorkflow>>();

  constructor(readonly masterDb: string) {}

  /** The workflow `id`; a ServiceError 404 when it is not registered, 500 when it cannot be read. */
  async get(id: number): Promise<OpenWorkflow> {
    const done = this.open.get(id);
    if (done) return done;
    let p = this.opening.get(id);
    if (!p) {
      p = this.load(id).finally(() => this.opening.delete(id));
      this.opening.set(id, p);
    }
    return p;
  }

  private async load(id: number): Promise<OpenWorkflow> {
    const reg = findRegisteredWorkflow(this.masterDb, id);
    if (!reg) throw new ServiceError(`workflow ${id}: no such workflow`, 404);
    let db: Db;
    try {
      ({ db } = await openMonitor(reg.submitDir));
    } catch (err) {
      throw new ServiceError(`workflow ${id}: ${(err as Error).message}`, 500);
    }
    const w = { reg, submitDir: reg.submitDir, db };
    this.open.set(id, w);
    return w;
  }

  /** The workflows registered since `since` (seconds since the epoch), newest first. */
  async list(since: number): Promise<WorkflowListRow[]> {
    const rows: WorkflowListRow[] = [];
    for (const reg of listRegisteredWorkflows(this.masterDb, since)) {
      const base = {
        id: reg.id,
        submitHost: reg.submitHost,
        submitDir: reg.submitDir,
        user: reg.user,
      };
      try {
        const w = await this.get(reg.id);
        const head = listWorkflows(w.db)[0];
        rows.push({
          ...base,
          label: head?.label ?? '',
          submitHost: head?.submitHost ?? reg.submitHost,
          state: workflowRun(w.db, w.submitDir).state,
          submittedOn: planTime(head?.timestamp) ?? reg.registered,
        });
      } catch (err) {
        rows.push({
          ...base,
          label: '',
          state: 'Unavailable',
          submittedOn: reg.registered,
          error: (err as Error).message,
        });
      }
    }
    return rows;
  }

  /** The workflow page's header numbers (statistics' wall times, status' progress counts). */
  summary(w: OpenWorkflow, id: number): WorkflowSummary {
    const info = workflowInfo(w.db);
    const status = queryStatus(w.db, w.submitDir);
    const stats = querySummary(w.db, w.submitDir);
    const all = listWorkflows(w.db);
    return {
      id,
      label: info.label,
      wfUuid: info.wfUuid,
      user: info.user,
      submitHost: all[0]?.submitHost ?? w.reg.submitHost,
      submitDir: w.submitDir,
      state: status.run.state,
      lost: status.run.lost,
      progress: status.totals,
      wallTime: stats.workflowWallTime,
      cumulativeWallTime: stats.cumulativeJobWallTime,
      subWorkflows: all.filter((x) => x.parentWfId !== null && x.wfId !== 1),
    };
  }

  close(): void {
    for (const w of this.open.values()) if (w.db.open) w.db.close();
    this.open.clear();
  }
}
