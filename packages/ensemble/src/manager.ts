import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { holdEngine, liveEngine } from '@pegasus-ts/engine';
import { conflict, EnsembleError } from './errors.js';
import { parseFilePattern } from './file-pattern.js';
import { homePaths } from './home.js';
import { checkName } from './names.js';
import {
  abandonPlanAttempt,
  killPlanAttempt,
  planAttemptState,
  startPlanAttempt,
  submitDirFromOutput,
} from './plan-attempt.js';
import { nextMoves } from './policy.js';
import { engineStarts, runOutcome, startEngine, stopEngine } from './run-driver.js';
import { applyAction, type EnsembleState, type WorkflowAction } from './states.js';
import { type Ensemble, Store, type Trigger, type TriggerType, type Workflow } from './store.js';
import { completeMoves, fireTrigger } from './triggers.js';

export interface ManagerOptions {
  /** the manager's home (see emHome) */
  home: string;
  /** how to start `pegasus-ts` (the engine runs as `pegasus-ts run --foreground`) */
  pegasusTs: readonly string[];
  /** environment of plan commands and engines */
  env?: NodeJS.ProcessEnv;
  /** log lines (no newline) */
  log?: (line: string) => void;
  /** a plan attempt this manager started but no wrapper claimed after this long is given up (default 60 s) */
  claimTimeoutMs?: number;
}

/** A new workflow: its plan command runs in basedir. */
export interface Submission {
  name: string;
  basedir: string;
  planCommand: string[];
  priority?: number;
}

/** A new trigger (interval and timeout in seconds). */
export interface TriggerSpec {
  name: string;
  type: TriggerType;
  interval: number;
  timeout?: number | null;
  script: string;
  args?: string[];
  patterns?: string[];
  basedir: string;
}

/**
 * The ensemble manager: ensembles of workflows planned and run within their throttles, in
 * priority order, and triggers that submit workflows. State lives in `em.db`; every state change
 * is committed before its side effect (a planner spawned, an engine started or stopped, a file
 * moved), and `tick()` finds every in-flight action again after a restart: a plan attempt by its
 * claim file, an engine by its submit dir's lock and journal. Actions run one at a time.
 */
export class Manager {
  readonly store: Store;
  private readonly env: NodeJS.ProcessEnv;
  private readonly spawned = new Map<string, number>();
  /** engines being started (startDetached waits for the lock; the passes go on meanwhile) */
  private readonly starting = new Map<number, Promise<string | undefined>>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: ManagerOptions) {
    mkdirSync(o.home, { recursive: true, mode: 0o700 });
    this.store = new Store(homePaths.db(o.home));
    this.env = o.env ?? process.env;
  }

  /** Waits for the engines being started, then closes the database. */
  async close(): Promise<void> {
    await Promise.all(this.starting.values());
    await this.serial(() => {});
    this.store.close();
  }

  private log(line: string): void {
    this.o.log?.(line);
  }

  /** Runs `fn` after every action queued before it (the manager's actions never interleave). */
  serial<T>(fn: () => T | Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => {});
    return next;
  }

  /** After a restart: file moves a crash interrupted, aborts not carried out. */
  recover(): Promise<void> {
    return this.serial(async () => {
      const moves = this.store.pendingMoves();
      if (moves.length) {
        completeMoves(this.store, moves);
        this.log(`recovered ${moves.length} file move(s) of a trigger firing`);
      }
      for (const w of this.store.workflowsIn(['ABORTED'])) await this.stopWorkflowProcesses(w);
    });
  }

  /** One pass: triggers, planning and running workflows checked, then new ones planned and started. */
  tick(): Promise<void> {
    return this.serial(() => {
      const now = this.store.now();
      for (const t of this.store.triggers()) {
        if (t.state !== 'RUNNING') continue;
        try {
          const name = fireTrigger(this.store, this.o.home, t, now);
          if (name) this.log(`trigger ${t.ensemble}.${t.name} submitted ${t.ensemble}.${name}`);
        } catch (err) {
          this.store.setTriggerState(t.id, 'FAILED', (err as Error).message);
          this.log(`trigger ${t.ensemble}.${t.name} failed: ${(err as Error).message}`);
        }
      }
      for (const w of this.store.workflowsIn(['PLANNING'])) this.checkPlanning(w);
      for (const w of this.store.workflowsIn(['RUNNING'])) this.checkRunning(w);
      const held = new Set(
        this.store
          .ensembles()
          .filter((e) => e.state === 'HELD')
          .map((e) => e.name),
      );
      for (const w of this.store.workflowsIn(['RUNNING'])) this.applyHold(w, held.has(w.ensemble));
      const live = this.store.workflowsIn(['READY', 'PLANNING', 'QUEUED', 'RUNNING']);
      for (const e of this.store.ensembles()) {
        const moves = nextMoves(
          live
            .filter((w) => w.ensemble === e.name)
            .map((w) => ({ id: w.id, state: w.state, priority: w.priority, seq: w.id })),
          { maxPlanning: e.maxPlanning, maxRunning: e.maxRunning },
          e.state === 'ACTIVE',
        );
        for (const id of moves.plan) this.plan(this.store.workflowById(id));
        for (const id of moves.run) this.run(this.store.workflowById(id));
      }
    });
  }

  private attemptDir(w: Workflow, attempt = w.planAttempt): string {
    return homePaths.planAttempt(this.o.home, w.ensemble, w.name, attempt);
  }

  private plan(w: Workflow): void {
    const attempt = w.planAttempt + 1;
    const dir = this.attemptDir(w, attempt);
    const now = this.store.now();
    // journaled first: after a crash the attempt is found by its directory
    w = this.store.setWorkflowState(w.id, 'PLANNING', {
      planAttempt: attempt,
      planStarted: now,
      planEnded: null,
      runStarted: null,
      runEnded: null,
      submitDir: null,
      message: null,
    });
    this.spawned.set(dir, Date.now());
    startPlanAttempt(dir, w.basedir, w.planCommand, this.env);
    this.log(`${w.ensemble}.${w.name}: planning (attempt ${attempt}): ${w.planCommand.join(' ')}`);
  }

  private checkPlanning(w: Workflow): void {
    const dir = this.attemptDir(w);
    const s = planAttemptState(dir);
    const ended = { planEnded: this.store.now() };
    switch (s.kind) {
      case 'running':
        return;
      case 'exited': {
        this.spawned.delete(dir);
        const submitDir = s.code === 0 ? submitDirFromOutput(s.stdout, w.basedir) : undefined;
        if (submitDir) {
          this.store.setWorkflowState(w.id, 'QUEUED', { ...ended, submitDir });
          this.log(`${w.ensemble}.${w.name}: planned into ${submitDir}`);
        } else {
          const message =
            s.code !== 0
              ? `the plan command exited with ${s.code} (see ${dir}/stderr)`
              : `the plan command printed no submit dir holding a plan.yml (see ${dir}/stdout)`;
          this.store.setWorkflowState(w.id, 'PLAN_FAILED', { ...ended, message });
          this.log(`${w.ensemble}.${w.name}: plan failed: ${message}`);
        }
        return;
      }
      case 'vanished':
        this.store.setWorkflowState(w.id, 'PLAN_FAILED', {
          ...ended,
          message: `the plan command's wrapper ended without an exit code (killed?); see ${dir}`,
        });
        return;
      case 'unclaimed': {
        const t = this.spawned.get(dir);
        if (t !== undefined && Date.now() - t < (this.o.claimTimeoutMs ?? 60_000)) return;
        // started by a manager that died (or a wrapper that never ran): take the attempt back so
        // that a wrapper starting late does nothing, then plan in a fresh attempt
        if (!abandonPlanAttempt(dir)) return;
        this.spawned.delete(dir);
        this.log(`${w.ensemble}.${w.name}: plan attempt ${w.planAttempt} never started; planning again`);
        this.plan(w);
        return;
      }
      case 'abandoned':
        this.plan(w);
        return;
    }
  }

  /**
   * Starts the engine without holding up the manager's passes; a start that fails marks the
   * workflow FAILED (unless the user changed its state meanwhile).
   */
  private launch(w: Workflow): void {
    const submitDir = w.submitDir as string;
    const started = existsSync(submitDir)
      ? startEngine(submitDir, this.o.pegasusTs, this.env).catch((err: Error) => err.message)
      : Promise.resolve(`${submitDir}: the submit dir is gone`);
    this.starting.set(w.id, started);
    void started.then((error) =>
      this.serial(() => {
        this.starting.delete(w.id);
        if (!error || this.store.workflowById(w.id).state !== 'RUNNING') return;
        this.store.setWorkflowState(w.id, 'FAILED', { runEnded: this.store.now(), message: error });
        this.log(`${w.ensemble}.${w.name}: the engine did not start: ${error}`);
      }),
    );
  }

  private checkRunning(w: Workflow): void {
    if (this.starting.has(w.id)) return;
    const submitDir = w.submitDir as string;
    const r = runOutcome(submitDir, w.engineStarts);
    if (r.kind === 'running') return;
    if (r.kind === 'finished') {
      const ok = r.code === 0;
      this.store.setWorkflowState(w.id, ok ? 'SUCCESSFUL' : 'FAILED', {
        runEnded: this.store.now(),
        message: ok ? null : r.code === 2 ? 'the engine was stopped (pegasus-ts remove)' : 'jobs failed',
      });
      this.log(`${w.ensemble}.${w.name}: ${ok ? 'successful' : 'failed'}`);
      return;
    }
    this.log(
      `${w.ensemble}.${w.name}: ${r.kind === 'crashed' ? 'the engine is gone without finishing: resuming it' : 'starting the engine'}`,
    );
    this.launch(w);
  }

  /**
   * A HELD ensemble holds the engines of its running workflows (SIGSTOP, as condor_hold holds a
   * DAGMan job: no new job starts, running ones go on); any other state releases them. Applied
   * every pass, so a manager restarted after a crash, or an engine started after the hold,
   * ends up as the ensemble's state says.
   */
  private applyHold(w: Workflow, hold: boolean): void {
    if (this.starting.has(w.id) || !w.submitDir) return;
    if (holdEngine(w.submitDir, hold))
      this.log(`${w.ensemble}.${w.name}: engine ${hold ? 'held' : 'released'}`);
  }

  private run(w: Workflow): void {
    const submitDir = w.submitDir as string;
    const starts = existsSync(submitDir) ? engineStarts(submitDir) : 0;
    w = this.store.setWorkflowState(w.id, 'RUNNING', {
      engineStarts: starts,
      runStarted: this.store.now(),
      runEnded: null,
      message: null,
    });
    this.log(`${w.ensemble}.${w.name}: running ${submitDir}`);
    this.launch(w);
  }

  /** Ends what an aborted workflow may still have running: its plan command, its engine. */
  private async stopWorkflowProcesses(w: Workflow): Promise<void> {
    await this.starting.get(w.id); // an engine being started is stopped once it runs
    if (w.planAttempt > 0 && !w.submitDir) killPlanAttempt(this.attemptDir(w));
    if (w.submitDir && existsSync(w.submitDir) && liveEngine(w.submitDir)) {
      await stopEngine(w.submitDir, this.env);
      this.log(`${w.ensemble}.${w.name}: engine stopped`);
    }
  }

  // the user's actions

  createEnsemble(name: string, maxRunning = 1, maxPlanning = 1): Promise<Ensemble> {
    return this.serial(() => this.store.createEnsemble(checkName('ensemble', name), maxRunning, maxPlanning));
  }

  configure(
    name: string,
    change: { state?: EnsembleState; maxRunning?: number; maxPlanning?: number },
  ): Promise<Ensemble> {
    return this.serial(() => this.store.updateEnsemble(name, change));
  }

  submit(ensemble: string, s: Submission): Promise<Workflow> {
    return this.serial(() => {
      if (s.planCommand.length === 0) throw new EnsembleError('expected a plan command');
      return this.store.addWorkflow(ensemble, {
        name: checkName('workflow', s.name),
        basedir: s.basedir,
        planCommand: s.planCommand,
        priority: s.priority ?? 0,
      });
    });
  }

  setPriority(ensemble: string, name: string, priority: number): Promise<Workflow> {
    return this.serial(() => this.store.setPriority(this.store.workflow(ensemble, name).id, priority));
  }

  /** replan, rerun or abort; abort returns once the plan command or engine has stopped. */
  act(ensemble: string, name: string, action: WorkflowAction): Promise<Workflow> {
    return this.serial(async () => {
      const w = this.store.workflow(ensemble, name);
      const to = applyAction(`${ensemble}.${name}`, w.state, action, w.submitDir !== null);
      if (action !== 'abort')
        return this.store.setWorkflowState(
          w.id,
          to,
          action === 'replan' ? { submitDir: null, message: null } : { message: null },
        );
      // journaled first: a manager killed halfway through finishes the abort when it restarts
      this.store.setWorkflowState(w.id, to, {
        message: 'aborted',
        ...(w.state === 'RUNNING' ? { runEnded: this.store.now() } : {}),
        ...(w.state === 'PLANNING' ? { planEnded: this.store.now() } : {}),
      });
      await this.stopWorkflowProcesses(w);
      this.log(`${ensemble}.${name}: aborted`);
      return this.store.workflowById(w.id);
    });
  }

  addTrigger(ensemble: string, t: TriggerSpec): Promise<Trigger> {
    return this.serial(() => {
      checkName('trigger', t.name);
      for (const p of t.patterns ?? []) parseFilePattern(p);
      if (t.type === 'FILE_PATTERN' && !t.patterns?.length)
        throw new EnsembleError('a file-pattern trigger needs at least one pattern');
      return this.store.addTrigger(ensemble, {
        name: t.name,
        type: t.type,
        interval: t.interval,
        timeout: t.timeout ?? null,
        script: t.script,
        args: t.args ?? [],
        patterns: t.patterns ?? [],
        basedir: t.basedir,
      });
    });
  }

  stopTrigger(ensemble: string, name: string): Promise<Trigger> {
    return this.serial(() => {
      const t = this.store.trigger(ensemble, name);
      if (t.state !== 'RUNNING') throw conflict(`trigger ${ensemble}.${name} is ${t.state} already`);
      return this.store.setTriggerState(t.id, 'STOPPED', 'stopped by the user');
    });
  }

  /** pegasus-em analyze: state, plan command, plan output (`LOG:`), then the analyzer's report (`ANALYZER:`). */
  async analyze(ensemble: string, name: string): Promise<string> {
    const w = this.store.workflow(ensemble, name);
    const out: string[] = [
      `Workflow state is ${w.state}`,
      `Plan command is: ${w.planCommand.join(' ')}`,
      ...(w.message ? [`Message: ${w.message}`] : []),
    ];
    if (w.planAttempt > 0) {
      const dir = this.attemptDir(w);
      for (const f of ['stdout', 'stderr']) {
        let text = '';
        try {
          text = readFileSync(join(dir, f), 'utf8');
        } catch {
          /* none yet */
        }
        for (const l of text.split('\n').slice(-200)) if (l) out.push(`LOG: ${l}`);
      }
    }
    if (w.submitDir && existsSync(join(w.submitDir, 'plan.yml'))) {
      const m = await import('@pegasus-ts/monitor');
      const { db } = await m.openMonitor(w.submitDir);
      try {
        const text = m.formatAnalyzer(m.analyze(db, w.submitDir, { taskLimit: 10, tailLines: 20 }));
        for (const l of text.replace(/\n$/, '').split('\n')) out.push(`ANALYZER: ${l}`);
      } finally {
        db.close();
      }
    }
    return `${out.join('\n')}\n`;
  }
}
