import type { Ensemble, Trigger, Workflow } from './store.js';

/** JSON shapes of the REST API (snake_case, as pegasus-em's). */
export function ensembleJson(e: Ensemble) {
  return {
    id: e.id,
    name: e.name,
    state: e.state,
    max_running: e.maxRunning,
    max_planning: e.maxPlanning,
    created: e.created,
    updated: e.updated,
    workflows: `/ensembles/${e.name}/workflows`,
    href: `/ensembles/${e.name}`,
  };
}

export function workflowJson(w: Workflow) {
  return {
    id: w.id,
    ensemble: w.ensemble,
    name: w.name,
    state: w.state,
    priority: w.priority,
    basedir: w.basedir,
    plan_command: w.planCommand,
    submit_dir: w.submitDir,
    plan_attempt: w.planAttempt,
    message: w.message,
    created: w.created,
    updated: w.updated,
    plan_started: w.planStarted,
    plan_ended: w.planEnded,
    run_started: w.runStarted,
    run_ended: w.runEnded,
    href: `/ensembles/${w.ensemble}/workflows/${w.name}`,
  };
}

export function triggerJson(t: Trigger) {
  return {
    id: t.id,
    ensemble: t.ensemble,
    name: t.name,
    type: t.type,
    state: t.state,
    interval: t.interval,
    timeout: t.timeout,
    workflow_script: t.script,
    workflow_args: t.args,
    file_patterns: t.patterns,
    basedir: t.basedir,
    created: t.created,
    next_fire: t.nextFire,
    fired: t.fired,
    message: t.message,
    href: `/ensembles/${t.ensemble}/triggers/${t.name}`,
  };
}

export type EnsembleJson = ReturnType<typeof ensembleJson>;
export type WorkflowJson = ReturnType<typeof workflowJson>;
export type WorkflowDetailJson = WorkflowJson & {
  history: { time: number; state: string; message: string | null }[];
};
export type TriggerJson = ReturnType<typeof triggerJson>;
