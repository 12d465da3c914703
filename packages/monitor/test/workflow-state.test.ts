// The run's state from workflowstate rows and the engine's pid: a live pid counts only when its
// process is the engine that wrote it (started no later), never a later process reusing the pid.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../src/database.js';
import { runStateText, workflowRun } from '../src/workflow-state.js';

let dir = '';
let db: Db | undefined;
afterEach(() => {
  db?.close();
  db = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function runWith(rows: [string, number, number | null, number | null][]): Db {
  dir = mkdtempSync(join(tmpdir(), 'pt-wfstate-'));
  db = openDatabase(join(dir, 'workflow.db'));
  const ins = db.prepare(
    'INSERT INTO workflowstate (wf_id, state, timestamp, restart_count, status, pid) VALUES (1, ?, ?, 0, ?, ?)',
  );
  for (const r of rows) ins.run(...r);
  return db;
}

describe('workflowRun', () => {
  const now = Date.now() / 1000;

  it('Running while the engine named by DAGMAN_STARTED lives', () => {
    const r = workflowRun(runWith([['WORKFLOW_STARTED', now, null, process.pid]]), dir);
    expect(r.state).toBe('Running');
    expect(runStateText(r)).toBe('Running');
  });

  it('a pid reused by a process started after the engine wrote it: the engine is gone', async () => {
    const other = spawn('sleep', ['5']);
    try {
      await new Promise((r) => other.once('spawn', r));
      // DAGMAN_STARTED names this pid a minute before the process started: another process's pid
      const r = workflowRun(runWith([['WORKFLOW_STARTED', now - 60, null, other.pid as number]]), dir);
      expect(r).toMatchObject({ state: 'Failure', lost: true });
      expect(runStateText(r)).toBe('Failure (engine gone)');
      // the same through engine.pid, written (mtime) a minute before the process started
      const pidFile = join(dir, 'engine.pid');
      writeFileSync(pidFile, `${other.pid} host\n`);
      utimesSync(pidFile, now - 60, now - 60);
      expect(workflowRun(db as Db, dir).state).toBe('Failure');
      utimesSync(pidFile, now + 1, now + 1);
      expect(workflowRun(db as Db, dir).state).toBe('Running');
    } finally {
      other.kill();
    }
  });

  it.each([
    [0, 'Success'],
    [1, 'Failure'],
    [2, 'Failure (stopped)'],
  ])('a run that ended with DAGMAN_FINISHED %i is %s', (status, text) => {
    const rows: [string, number, number | null, number | null][] = [
      ['WORKFLOW_STARTED', now - 5, null, process.pid],
      ['WORKFLOW_TERMINATED', now, status, null],
    ];
    expect(runStateText(workflowRun(runWith(rows), dir))).toBe(text);
  });
});
