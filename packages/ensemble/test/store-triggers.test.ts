// The journal (real SQLite in a temp dir) and trigger firings, with a crash between a firing's
// commit and its file moves simulated by committing the rows without moving.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { homePaths } from '../src/home.js';
import { Store } from '../src/store.js';
import { completeMoves, fireTrigger } from '../src/triggers.js';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function setUp(clock: { now: number }): { store: Store; home: string; inbox: string } {
  dir = mkdtempSync(join(tmpdir(), 'em-store-'));
  const home = join(dir, 'em');
  const inbox = join(dir, 'inbox');
  mkdirSync(home);
  mkdirSync(inbox);
  const store = new Store(homePaths.db(home), () => clock.now);
  store.createEnsemble('e', 1, 1);
  return { store, home, inbox };
}

describe('Store', () => {
  it('keeps ensembles, workflows with their history, and refuses duplicates and unknown names', () => {
    const clock = { now: 1000 };
    const { store } = setUp(clock);
    const w = store.addWorkflow('e', {
      name: 'w',
      basedir: '/b',
      planCommand: ['./plan.sh', 'x y'],
      priority: 3,
    });
    expect(w).toMatchObject({
      ensemble: 'e',
      name: 'w',
      state: 'READY',
      planCommand: ['./plan.sh', 'x y'],
      priority: 3,
    });
    clock.now = 1005;
    store.setWorkflowState(w.id, 'PLANNING', { planAttempt: 1, planStarted: 1005 });
    expect(store.workflow('e', 'w')).toMatchObject({ state: 'PLANNING', planAttempt: 1, planStarted: 1005 });
    expect(store.history(w.id).map((h) => [h.time, h.state])).toEqual([
      [1000, 'READY'],
      [1005, 'PLANNING'],
    ]);
    expect(() =>
      store.addWorkflow('e', { name: 'w', basedir: '/', planCommand: ['x'], priority: 0 }),
    ).toThrow('workflow e.w already exists');
    expect(() => store.workflows('nope')).toThrow('no ensemble named nope');
    expect(() => store.workflow('e', 'nope')).toThrow('no workflow named e.nope');
    expect(() => store.createEnsemble('e', 1, 1)).toThrow('ensemble e already exists');
    store.close();
    // reopened: all still there
    const again = new Store(store.path);
    expect(again.workflow('e', 'w').state).toBe('PLANNING');
    again.close();
  });

  it('a cron trigger submits SCRIPT ARGS at once and then every interval, and stops at its timeout', () => {
    const clock = { now: 1000 };
    const { store, home } = setUp(clock);
    const t = store.addTrigger('e', {
      name: 'c',
      type: 'CRON',
      interval: 10,
      timeout: 25,
      script: '/bin/plan',
      args: ['--x'],
      patterns: [],
      basedir: '/b',
    });
    const fire = () => fireTrigger(store, home, store.triggerById(t.id), clock.now);
    expect(fire()).toBe('c_1000');
    expect(fire()).toBeUndefined(); // not due
    clock.now = 1010;
    expect(fire()).toBe('c_1010');
    clock.now = 1020.5;
    expect(fire()).toBe('c_1020');
    clock.now = 1026;
    expect(fire()).toBeUndefined();
    expect(store.triggerById(t.id)).toMatchObject({
      state: 'STOPPED',
      fired: 3,
      message: 'timed out after 25 s',
    });
    expect(store.workflows('e').map((w) => [w.name, w.planCommand])).toEqual([
      ['c_1000', ['/bin/plan', '--x']],
      ['c_1010', ['/bin/plan', '--x']],
      ['c_1020', ['/bin/plan', '--x']],
    ]);
  });

  it('a file-pattern trigger passes new files once, moved to processed/, and a crash before the moves is completed', () => {
    const clock = { now: 2000 };
    const { store, home, inbox } = setUp(clock);
    const t = store.addTrigger('e', {
      name: 'f',
      type: 'FILE_PATTERN',
      interval: 5,
      timeout: null,
      script: '/bin/plan',
      args: [],
      patterns: [join(inbox, '*.txt')],
      basedir: '/b',
    });
    const fire = () => fireTrigger(store, home, store.triggerById(t.id), clock.now);
    expect(fire()).toBeUndefined(); // nothing there yet
    writeFileSync(join(inbox, 'b.txt'), 'b');
    writeFileSync(join(inbox, 'a.txt'), 'a');
    writeFileSync(join(inbox, 'skip.dat'), 'x');
    clock.now = 2005;
    expect(fire()).toBe('f_2005');
    const processed = homePaths.processed(home, 'e', 'f');
    expect(store.workflow('e', 'f_2005').planCommand).toEqual([
      '/bin/plan',
      '--inputs',
      join(processed, 'a.txt'),
      join(processed, 'b.txt'),
    ]);
    expect(readdirSync(inbox)).toEqual(['skip.dat']);
    expect(readdirSync(processed).sort()).toEqual(['a.txt', 'b.txt']);
    clock.now = 2010;
    expect(fire()).toBeUndefined(); // nothing new
    // the same name again: a new file, another processed name
    writeFileSync(join(inbox, 'a.txt'), 'a again');
    clock.now = 2015;
    expect(fire()).toBe('f_2015');
    expect(store.workflow('e', 'f_2015').planCommand.slice(-1)).toEqual([join(processed, '2.a.txt')]);

    // a crash right after a firing's commit: the rows are there, the file is not moved yet
    writeFileSync(join(inbox, 'c.txt'), 'c');
    store.tx(() => {
      store.addWorkflow('e', { name: 'f_crash', basedir: '/b', planCommand: ['/bin/plan'], priority: 0 });
      store.addPendingMoves(t.id, [{ src: join(inbox, 'c.txt'), dest: join(processed, 'c.txt') }]);
    });
    completeMoves(store, store.pendingMoves());
    expect(existsSync(join(inbox, 'c.txt'))).toBe(false);
    expect(existsSync(join(processed, 'c.txt'))).toBe(true);
    expect(store.pendingMoves()).toEqual([]);
    // completing again (a crash after the move, before the rows went) is harmless
    store.addPendingMoves(t.id, [{ src: join(inbox, 'c.txt'), dest: join(processed, 'c.txt') }]);
    completeMoves(store, store.pendingMoves());
    expect(existsSync(join(processed, 'c.txt'))).toBe(true);
  });
});
