import Database from 'better-sqlite3';
import { EnsembleError, notFound } from './errors.js';
import type { EnsembleState, TriggerState, WorkflowState } from './states.js';

export type Db = Database.Database;

/** Bumped when the layout changes (there is no migration yet: an older file is refused). */
export const STORE_VERSION = 1;

// The manager's journal: every state change is committed here before the manager acts on it
// (spawns a planner, starts an engine, moves a file), so a manager killed at any moment finds
// what it was doing on restart.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ensemble (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, state TEXT NOT NULL,
  max_running INTEGER NOT NULL, max_planning INTEGER NOT NULL, created REAL NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS workflow (
  id INTEGER PRIMARY KEY, ensemble_id INTEGER NOT NULL REFERENCES ensemble (id), name TEXT NOT NULL,
  basedir TEXT NOT NULL, plan_command TEXT NOT NULL, priority INTEGER NOT NULL, state TEXT NOT NULL,
  submit_dir TEXT, plan_attempt INTEGER NOT NULL DEFAULT 0, engine_starts INTEGER NOT NULL DEFAULT 0,
  message TEXT, created REAL NOT NULL, updated REAL NOT NULL,
  plan_started REAL, plan_ended REAL, run_started REAL, run_ended REAL,
  UNIQUE (ensemble_id, name));
CREATE TABLE IF NOT EXISTS workflow_state (
  workflow_id INTEGER NOT NULL REFERENCES workflow (id), time REAL NOT NULL, state TEXT NOT NULL, message TEXT);
CREATE INDEX IF NOT EXISTS workflow_state_wf ON workflow_state (workflow_id);
CREATE TABLE IF NOT EXISTS trigger (
  id INTEGER PRIMARY KEY, ensemble_id INTEGER NOT NULL REFERENCES ensemble (id), name TEXT NOT NULL,
  type TEXT NOT NULL, state TEXT NOT NULL, interval INTEGER NOT NULL, timeout INTEGER,
  script TEXT NOT NULL, args TEXT NOT NULL, patterns TEXT NOT NULL, basedir TEXT NOT NULL,
  created REAL NOT NULL, updated REAL NOT NULL, next_fire REAL NOT NULL, fired INTEGER NOT NULL DEFAULT 0,
  message TEXT, UNIQUE (ensemble_id, name));
CREATE TABLE IF NOT EXISTS pending_move (
  id INTEGER PRIMARY KEY, trigger_id INTEGER NOT NULL, src TEXT NOT NULL, dest TEXT NOT NULL);
`;

export interface Ensemble {
  id: number;
  name: string;
  state: EnsembleState;
  maxRunning: number;
  maxPlanning: number;
  created: number;
  updated: number;
}

export interface Workflow {
  id: number;
  ensemble: string;
  name: string;
  basedir: string;
  /** argv of the plan command, run in basedir without a shell */
  planCommand: string[];
  priority: number;
  state: WorkflowState;
  submitDir: string | null;
  planAttempt: number;
  /** DAGMAN_STARTED lines in jobstate.log when the manager last started the engine */
  engineStarts: number;
  message: string | null;
  created: number;
  updated: number;
  planStarted: number | null;
  planEnded: number | null;
  runStarted: number | null;
  runEnded: number | null;
}

export type TriggerType = 'CRON' | 'FILE_PATTERN';

export interface Trigger {
  id: number;
  ensemble: string;
  name: string;
  type: TriggerType;
  state: TriggerState;
  /** seconds between firings */
  interval: number;
  /** seconds after creation when it stops (null: never) */
  timeout: number | null;
  script: string;
  args: string[];
  patterns: string[];
  basedir: string;
  created: number;
  updated: number;
  nextFire: number;
  fired: number;
  message: string | null;
}

export interface PendingMove {
  id: number;
  triggerId: number;
  src: string;
  dest: string;
}

type Row = Record<string, unknown>;

function ensembleOf(r: Row): Ensemble {
  return {
    id: r.id as number,
    name: r.name as string,
    state: r.state as EnsembleState,
    maxRunning: r.max_running as number,
    maxPlanning: r.max_planning as number,
    created: r.created as number,
    updated: r.updated as number,
  };
}

function workflowOf(r: Row): Workflow {
  return {
    id: r.id as number,
    ensemble: r.ensemble as string,
    name: r.name as string,
    basedir: r.basedir as string,
    planCommand: JSON.parse(r.plan_command as string),
    priority: r.priority as number,
    state: r.state as WorkflowState,
    submitDir: (r.submit_dir as string | null) ?? null,
    planAttempt: r.plan_attempt as number,
    engineStarts: r.engine_starts as number,
    message: (r.message as string | null) ?? null,
    created: r.created as number,
    updated: r.updated as number,
    planStarted: (r.plan_started as number | null) ?? null,
    planEnded: (r.plan_ended as number | null) ?? null,
    runStarted: (r.run_started as number | null) ?? null,
    runEnded: (r.run_ended as number | null) ?? null,
  };
}

function triggerOf(r: Row): Trigger {
  return {
    id: r.id as number,
    ensemble: r.ensemble as string,
    name: r.name as string,
    type: r.type as TriggerType,
    state: r.state as TriggerState,
    interval: r.interval as number,
    timeout: (r.timeout as number | null) ?? null,
    script: r.script as string,
    args: JSON.parse(r.args as string),
    patterns: JSON.parse(r.patterns as string),
    basedir: r.basedir as string,
    created: r.created as number,
    updated: r.updated as number,
    nextFire: r.next_fire as number,
    fired: r.fired as number,
    message: (r.message as string | null) ?? null,
  };
}

const WF_SELECT = 'SELECT w.*, e.name AS ensemble FROM workflow w JOIN ensemble e ON e.id = w.ensemble_id';
const TR_SELECT = 'SELECT t.*, e.name AS ensemble FROM trigger t JOIN ensemble e ON e.id = t.ensemble_id';

/** Fields a workflow state change may set along with the state. */
export interface WorkflowChange {
  submitDir?: string | null;
  planAttempt?: number;
  engineStarts?: number;
  message?: string | null;
  planStarted?: number | null;
  planEnded?: number | null;
  runStarted?: number | null;
  runEnded?: number | null;
}

const CHANGE_COLUMNS: Record<keyof WorkflowChange, string> = {
  submitDir: 'submit_dir',
  planAttempt: 'plan_attempt',
  engineStarts: 'engine_starts',
  message: 'message',
  planStarted: 'plan_started',
  planEnded: 'plan_ended',
  runStarted: 'run_started',
  runEnded: 'run_ended',
};

/** The ensemble manager's SQLite database (`em.db`): ensembles, workflows, their state history, triggers. */
export class Store {
  readonly db: Db;

  constructor(
    readonly path: string,
    private readonly clock: () => number = () => Date.now() / 1000,
  ) {
    try {
      this.db = new Database(path);
    } catch (err) {
      throw new EnsembleError(`${path}: cannot open the database (${(err as Error).message})`, 1);
    }
    this.db.pragma('busy_timeout = 30000');
    this.db.pragma('journal_mode = WAL');
    // FULL: a committed state change survives a crash of the machine, not only of the process
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.exec(SCHEMA);
    const v = this.db.prepare("SELECT value FROM meta WHERE key = 'version'").get() as
      | { value: string }
      | undefined;
    if (!v) this.db.prepare("INSERT INTO meta (key, value) VALUES ('version', ?)").run(String(STORE_VERSION));
    else if (Number(v.value) !== STORE_VERSION)
      throw new EnsembleError(`${path}: database layout ${v.value}, this manager reads ${STORE_VERSION}`, 1);
  }

  close(): void {
    this.db.close();
  }

  now(): number {
    return this.clock();
  }

  /** Runs `fn` in one transaction (BEGIN IMMEDIATE). */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  // ensembles

  createEnsemble(name: string, maxRunning: number, maxPlanning: number): Ensemble {
    if (this.findEnsemble(name)) throw new EnsembleError(`ensemble ${name} already exists`, 1, 409);
    const now = this.now();
    this.db
      .prepare(
        "INSERT INTO ensemble (name, state, max_running, max_planning, created, updated) VALUES (?, 'ACTIVE', ?, ?, ?, ?)",
      )
      .run(name, maxRunning, maxPlanning, now, now);
    return this.ensemble(name);
  }

  findEnsemble(name: string): Ensemble | undefined {
    const r = this.db.prepare('SELECT * FROM ensemble WHERE name = ?').get(name) as Row | undefined;
    return r && ensembleOf(r);
  }

  ensemble(name: string): Ensemble {
    const e = this.findEnsemble(name);
    if (!e) throw notFound(`no ensemble named ${name} (pegasus-ts em ensembles lists them)`);
    return e;
  }

  ensembles(): Ensemble[] {
    return (this.db.prepare('SELECT * FROM ensemble ORDER BY id').all() as Row[]).map(ensembleOf);
  }

  updateEnsemble(
    name: string,
    change: { state?: EnsembleState; maxRunning?: number; maxPlanning?: number },
  ): Ensemble {
    const e = this.ensemble(name);
    this.db
      .prepare('UPDATE ensemble SET state = ?, max_running = ?, max_planning = ?, updated = ? WHERE id = ?')
      .run(
        change.state ?? e.state,
        change.maxRunning ?? e.maxRunning,
        change.maxPlanning ?? e.maxPlanning,
        this.now(),
        e.id,
      );
    return this.ensemble(name);
  }

  // workflows

  addWorkflow(
    ensemble: string,
    w: { name: string; basedir: string; planCommand: string[]; priority: number },
  ): Workflow {
    const e = this.ensemble(ensemble);
    return this.tx(() => {
      if (this.db.prepare('SELECT 1 FROM workflow WHERE ensemble_id = ? AND name = ?').get(e.id, w.name))
        throw new EnsembleError(`workflow ${ensemble}.${w.name} already exists`, 1, 409);
      const now = this.now();
      const { lastInsertRowid } = this.db
        .prepare(
          "INSERT INTO workflow (ensemble_id, name, basedir, plan_command, priority, state, created, updated) VALUES (?, ?, ?, ?, ?, 'READY', ?, ?)",
        )
        .run(e.id, w.name, w.basedir, JSON.stringify(w.planCommand), w.priority, now, now);
      this.db
        .prepare("INSERT INTO workflow_state (workflow_id, time, state) VALUES (?, ?, 'READY')")
        .run(lastInsertRowid, now);
      return this.workflowById(Number(lastInsertRowid));
    });
  }

  hasWorkflow(ensemble: string, name: string): boolean {
    return this.db.prepare(`${WF_SELECT} WHERE e.name = ? AND w.name = ?`).get(ensemble, name) !== undefined;
  }

  workflow(ensemble: string, name: string): Workflow {
    this.ensemble(ensemble);
    const r = this.db.prepare(`${WF_SELECT} WHERE e.name = ? AND w.name = ?`).get(ensemble, name) as
      | Row
      | undefined;
    if (!r)
      throw notFound(
        `no workflow named ${ensemble}.${name} (pegasus-ts em workflows ${ensemble} lists them)`,
      );
    return workflowOf(r);
  }

  workflowById(id: number): Workflow {
    return workflowOf(this.db.prepare(`${WF_SELECT} WHERE w.id = ?`).get(id) as Row);
  }

  workflows(ensemble?: string): Workflow[] {
    if (ensemble === undefined)
      return (this.db.prepare(`${WF_SELECT} ORDER BY w.id`).all() as Row[]).map(workflowOf);
    const e = this.ensemble(ensemble);
    return (this.db.prepare(`${WF_SELECT} WHERE w.ensemble_id = ? ORDER BY w.id`).all(e.id) as Row[]).map(
      workflowOf,
    );
  }

  /** Workflows in any of `states`, across ensembles. */
  workflowsIn(states: readonly WorkflowState[]): Workflow[] {
    return (
      this.db
        .prepare(`${WF_SELECT} WHERE w.state IN (${states.map(() => '?').join(', ')}) ORDER BY w.id`)
        .all(...states) as Row[]
    ).map(workflowOf);
  }

  /** Moves a workflow to `state` (recorded in its history) with the other fields of `change`. */
  setWorkflowState(id: number, state: WorkflowState, change: WorkflowChange = {}): Workflow {
    const now = this.now();
    const sets = ['state = ?', 'updated = ?'];
    const values: unknown[] = [state, now];
    for (const [k, v] of Object.entries(change)) {
      sets.push(`${CHANGE_COLUMNS[k as keyof WorkflowChange]} = ?`);
      values.push(v);
    }
    this.tx(() => {
      this.db.prepare(`UPDATE workflow SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
      this.db
        .prepare('INSERT INTO workflow_state (workflow_id, time, state, message) VALUES (?, ?, ?, ?)')
        .run(id, now, state, change.message ?? null);
    });
    return this.workflowById(id);
  }

  setPriority(id: number, priority: number): Workflow {
    this.db
      .prepare('UPDATE workflow SET priority = ?, updated = ? WHERE id = ?')
      .run(priority, this.now(), id);
    return this.workflowById(id);
  }

  /** A workflow's state changes, oldest first. */
  history(id: number): { time: number; state: WorkflowState; message: string | null }[] {
    return this.db
      .prepare('SELECT time, state, message FROM workflow_state WHERE workflow_id = ? ORDER BY rowid')
      .all(id) as { time: number; state: WorkflowState; message: string | null }[];
  }

  // triggers

  addTrigger(
    ensemble: string,
    t: Pick<Trigger, 'name' | 'type' | 'interval' | 'timeout' | 'script' | 'args' | 'patterns' | 'basedir'>,
  ): Trigger {
    const e = this.ensemble(ensemble);
    return this.tx(() => {
      if (this.db.prepare('SELECT 1 FROM trigger WHERE ensemble_id = ? AND name = ?').get(e.id, t.name))
        throw new EnsembleError(`trigger ${ensemble}.${t.name} already exists`, 1, 409);
      const now = this.now();
      const { lastInsertRowid } = this.db
        .prepare(
          `INSERT INTO trigger (ensemble_id, name, type, state, interval, timeout, script, args, patterns, basedir,
             created, updated, next_fire) VALUES (?, ?, ?, 'RUNNING', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          e.id,
          t.name,
          t.type,
          t.interval,
          t.timeout,
          t.script,
          JSON.stringify(t.args),
          JSON.stringify(t.patterns),
          t.basedir,
          now,
          now,
          // a cron trigger fires at once, then every interval; a file pattern looks at once too
          now,
        );
      return this.triggerById(Number(lastInsertRowid));
    });
  }

  triggerById(id: number): Trigger {
    return triggerOf(this.db.prepare(`${TR_SELECT} WHERE t.id = ?`).get(id) as Row);
  }

  trigger(ensemble: string, name: string): Trigger {
    this.ensemble(ensemble);
    const r = this.db.prepare(`${TR_SELECT} WHERE e.name = ? AND t.name = ?`).get(ensemble, name) as
      | Row
      | undefined;
    if (!r)
      throw notFound(`no trigger named ${ensemble}.${name} (pegasus-ts em triggers ${ensemble} lists them)`);
    return triggerOf(r);
  }

  triggers(ensemble?: string): Trigger[] {
    if (ensemble === undefined)
      return (this.db.prepare(`${TR_SELECT} ORDER BY t.id`).all() as Row[]).map(triggerOf);
    const e = this.ensemble(ensemble);
    return (this.db.prepare(`${TR_SELECT} WHERE t.ensemble_id = ? ORDER BY t.id`).all(e.id) as Row[]).map(
      triggerOf,
    );
  }

  setTriggerState(id: number, state: TriggerState, message: string | null = null): Trigger {
    this.db
      .prepare('UPDATE trigger SET state = ?, message = ?, updated = ? WHERE id = ?')
      .run(state, message, this.now(), id);
    return this.triggerById(id);
  }

  /** Records a firing: the next one's time and the count (in the caller's transaction). */
  triggerFired(id: number, nextFire: number, fired: boolean): void {
    this.db
      .prepare('UPDATE trigger SET next_fire = ?, fired = fired + ?, updated = ? WHERE id = ?')
      .run(nextFire, fired ? 1 : 0, this.now(), id);
  }

  addPendingMoves(triggerId: number, moves: readonly { src: string; dest: string }[]): void {
    const ins = this.db.prepare('INSERT INTO pending_move (trigger_id, src, dest) VALUES (?, ?, ?)');
    for (const m of moves) ins.run(triggerId, m.src, m.dest);
  }

  pendingMoves(): PendingMove[] {
    return (this.db.prepare('SELECT * FROM pending_move ORDER BY id').all() as Row[]).map((r) => ({
      id: r.id as number,
      triggerId: r.trigger_id as number,
      src: r.src as string,
      dest: r.dest as string,
    }));
  }

  movesDone(ids: readonly number[]): void {
    const del = this.db.prepare('DELETE FROM pending_move WHERE id = ?');
    this.tx(() => {
      for (const id of ids) del.run(id);
    });
  }
}
