import { formatTable, formatTime } from '@pegasus-ts/monitor';
import type { EnsembleJson, TriggerJson, WorkflowDetailJson, WorkflowJson } from './api-json.js';
import { formatInterval } from './interval.js';

function table(header: string[], rows: (string | number)[][], align: ('l' | 'r')[] = []): string {
  const text = formatTable(header, rows, align);
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** `em ensembles`. */
export function formatEnsembles(es: readonly EnsembleJson[]): string {
  if (es.length === 0) return 'no ensembles (pegasus-ts em create NAME makes one)\n';
  return table(
    ['NAME', 'CREATED', 'UPDATED', 'STATE', 'MAX PLANNING', 'MAX RUNNING'],
    es.map((e) => [
      e.name,
      formatTime(e.created),
      formatTime(e.updated),
      e.state,
      e.max_planning,
      e.max_running,
    ]),
    ['l', 'l', 'l', 'l', 'r', 'r'],
  );
}

/** `em workflows ENS` (with `long`, the plan command and submit dir too). */
export function formatWorkflows(ws: readonly WorkflowJson[], long = false): string {
  if (ws.length === 0) return 'no workflows in this ensemble\n';
  const header = ['NAME', 'CREATED', 'UPDATED', 'STATE', 'PRIORITY'];
  if (long) header.push('SUBMIT DIR', 'PLAN COMMAND');
  return table(
    header,
    ws.map((w) => [
      w.name,
      formatTime(w.created),
      formatTime(w.updated),
      w.state,
      w.priority,
      ...(long ? [w.submit_dir ?? '-', w.plan_command.join(' ')] : []),
    ]),
    ['l', 'l', 'l', 'l', 'r'],
  );
}

/** `em status ENS.WF`: the workflow's fields, then its state changes. */
export function formatWorkflowStatus(w: WorkflowDetailJson): string {
  const lines = [
    `Name: ${w.ensemble}.${w.name}`,
    `State: ${w.state}${w.message ? ` (${w.message})` : ''}`,
    `Priority: ${w.priority}`,
    `Plan command: ${w.plan_command.join(' ')}`,
    `Base dir: ${w.basedir}`,
    `Submit dir: ${w.submit_dir ?? '-'}`,
    `Created: ${formatTime(w.created)}`,
    `Updated: ${formatTime(w.updated)}`,
    'History:',
    ...w.history.map((h) => `  ${formatTime(h.time)}  ${h.state}${h.message ? `  ${h.message}` : ''}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** `em triggers [ENS]`. */
export function formatTriggers(ts: readonly TriggerJson[]): string {
  if (ts.length === 0) return 'no triggers\n';
  return table(
    ['ENSEMBLE', 'NAME', 'TYPE', 'STATE', 'INTERVAL', 'FIRED', 'SCRIPT', 'PATTERNS'],
    ts.map((t) => [
      t.ensemble,
      t.name,
      t.type,
      t.state,
      formatInterval(t.interval),
      t.fired,
      [t.workflow_script, ...t.workflow_args].join(' '),
      t.file_patterns.join(' ') || '-',
    ]),
    ['l', 'l', 'l', 'l', 'r', 'r'],
  );
}
