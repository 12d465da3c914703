import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { newMatches, parseFilePattern } from './file-pattern.js';
import { homePaths } from './home.js';
import type { PendingMove, Store, Trigger } from './store.js';

/** When a trigger fires next: one interval after the last planned firing, never in the past (no burst after downtime). */
export function nextFireTime(t: Pick<Trigger, 'nextFire' | 'interval'>, now: number): number {
  const next = t.nextFire + t.interval;
  return next > now ? next : now + t.interval;
}

/** The name of a workflow a trigger submits: `TRIGGER_<epoch seconds>`, with `_N` when taken. */
export function triggeredName(store: Store, t: Trigger, now: number): string {
  const base = `${t.name}_${Math.floor(now)}`;
  let name = base;
  for (let n = 2; store.hasWorkflow(t.ensemble, name); n++) name = `${base}_${n}`;
  return name;
}

/** Regular files in `dir` (none when it does not exist). */
function filesIn(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => {
    try {
      return statSync(join(dir, n)).isFile();
    } catch {
      return false;
    }
  });
}

/** Moves a file (rename, or copy and unlink across filesystems); a source already moved is fine. */
export function moveFile(src: string, dest: string): void {
  if (!existsSync(src)) return;
  try {
    renameSync(src, dest);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    copyFileSync(src, dest);
    unlinkSync(src);
  }
}

/** Finishes moves recorded before a crash. */
export function completeMoves(store: Store, moves: readonly PendingMove[]): void {
  for (const m of moves) {
    mkdirSync(join(m.dest, '..'), { recursive: true });
    moveFile(m.src, m.dest);
  }
  store.movesDone(moves.map((m) => m.id));
}

/**
 * Fires `t` if it is due: a cron trigger submits `SCRIPT ARGS...`; a file-pattern trigger, when
 * new files match, submits `SCRIPT ARGS... --inputs F1 F2 ...` with the files' new paths in the
 * trigger's processed/ folder. The workflow, the moves and the next firing are committed in one
 * transaction before any file moves, so a crash neither loses nor repeats a firing.
 */
export function fireTrigger(store: Store, home: string, t: Trigger, now: number): string | undefined {
  if (t.state !== 'RUNNING') return undefined;
  if (t.timeout !== null && now >= t.created + t.timeout) {
    store.setTriggerState(t.id, 'STOPPED', `timed out after ${t.timeout} s`);
    return undefined;
  }
  if (now < t.nextFire) return undefined;
  const next = nextFireTime(t, now);
  if (t.type === 'CRON') {
    return store.tx(() => {
      const name = triggeredName(store, t, now);
      store.addWorkflow(t.ensemble, {
        name,
        basedir: t.basedir,
        planCommand: [t.script, ...t.args],
        priority: 0,
      });
      store.triggerFired(t.id, next, true);
      return name;
    });
  }
  const processed = homePaths.processed(home, t.ensemble, t.name);
  const moves: { src: string; dest: string }[] = [];
  const taken = new Set<string>();
  for (const pattern of t.patterns) {
    const p = parseFilePattern(pattern);
    for (const n of newMatches(p, filesIn(p.dir))) {
      let dest = join(processed, n);
      for (let i = 2; taken.has(dest) || existsSync(dest); i++) dest = join(processed, `${i}.${basename(n)}`);
      taken.add(dest);
      moves.push({ src: join(p.dir, n), dest });
    }
  }
  if (moves.length === 0) {
    store.triggerFired(t.id, next, false);
    return undefined;
  }
  mkdirSync(processed, { recursive: true });
  const name = store.tx(() => {
    const name = triggeredName(store, t, now);
    store.addWorkflow(t.ensemble, {
      name,
      basedir: t.basedir,
      planCommand: [t.script, ...t.args, '--inputs', ...moves.map((m) => m.dest)],
      priority: 0,
    });
    store.addPendingMoves(t.id, moves);
    store.triggerFired(t.id, next, true);
    return name;
  });
  completeMoves(
    store,
    store.pendingMoves().filter((m) => m.triggerId === t.id),
  );
  return name;
}
