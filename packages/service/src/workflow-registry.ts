import { existsSync, mkdirSync } from 'node:fs';
import { homedir, hostname, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ServiceError } from './errors.js';

/** The master database's file name, in {@link pegasusTsHome}. */
export const MASTER_DB_FILE = 'workflows.db';

/** The per-user directory of Pegasus-TS: `$PEGASUS_TS_HOME`, else `~/.pegasus-ts`. */
export function pegasusTsHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.PEGASUS_TS_HOME ? resolve(env.PEGASUS_TS_HOME) : join(homedir(), '.pegasus-ts');
}

/** The master database (every submit dir that `plan` and `run` registered): `HOME/workflows.db`. */
export function masterDbPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(pegasusTsHome(env), MASTER_DB_FILE);
}

/** One registered submit dir. */
export interface RegisteredWorkflow {
  /** the id in the service's URLs */
  id: number;
  submitDir: string;
  submitHost: string;
  user: string;
  /** first registration (plan), seconds since the epoch */
  registered: number;
  /** last registration (each run) */
  lastSeen: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS workflow (
  id INTEGER PRIMARY KEY, submit_dir TEXT NOT NULL UNIQUE, submit_host TEXT NOT NULL, user TEXT NOT NULL,
  registered REAL NOT NULL, last_seen REAL NOT NULL);
CREATE INDEX IF NOT EXISTS workflow_registered ON workflow (registered);`;

function open(path: string, readonly: boolean): Database.Database {
  if (!readonly) mkdirSync(join(path, '..'), { recursive: true });
  const db = new Database(path, { readonly, fileMustExist: readonly });
  db.pragma('busy_timeout = 10000');
  if (!readonly) {
    db.pragma('journal_mode = WAL');
    db.exec(SCHEMA);
  }
  return db;
}

function safeUser(env: NodeJS.ProcessEnv): string {
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? 'user';
  }
}

let warned = false;

/**
 * Records `submitDir` in the master database (what `plan` and `run` call). It never fails the
 * caller: when the database cannot be written (a read-only HOME, a full disk) it calls `warn`
 * (once per process) with a one-line reason and returns false.
 */
export function registerWorkflow(
  submitDir: string,
  options: { env?: NodeJS.ProcessEnv; warn?: (line: string) => void; now?: number } = {},
): boolean {
  const env = options.env ?? process.env;
  const path = masterDbPath(env);
  const now = options.now ?? Date.now() / 1000;
  try {
    const db = open(path, false);
    try {
      db.prepare(
        `INSERT INTO workflow (submit_dir, submit_host, user, registered, last_seen) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (submit_dir) DO UPDATE SET last_seen = excluded.last_seen`,
      ).run(resolve(submitDir), hostname(), safeUser(env), now, now);
    } finally {
      db.close();
    }
    return true;
  } catch (err) {
    if (warned) return false;
    warned = true;
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    options.warn?.(`warning: ${path}: cannot register the workflow for the service (${why})`);
    return false;
  }
}

/** Registered workflows since `since` (seconds since the epoch; all by default), newest first. */
export function listRegisteredWorkflows(path: string, since = 0): RegisteredWorkflow[] {
  if (!existsSync(path)) return [];
  let db: Database.Database;
  try {
    db = open(path, true);
  } catch (err) {
    throw new ServiceError(`${path}: cannot open the master database (${(err as Error).message})`, 500);
  }
  try {
    return db
      .prepare(
        `SELECT id, submit_dir AS submitDir, submit_host AS submitHost, user, registered, last_seen AS lastSeen
         FROM workflow WHERE registered >= ? ORDER BY registered DESC, id DESC`,
      )
      .all(since) as RegisteredWorkflow[];
  } finally {
    db.close();
  }
}

/** One registered workflow by id, or undefined. */
export function findRegisteredWorkflow(path: string, id: number): RegisteredWorkflow | undefined {
  let db: Database.Database;
  try {
    db = open(path, true);
  } catch {
    return undefined;
  }
  try {
    return db
      .prepare(
        `SELECT id, submit_dir AS submitDir, submit_host AS submitHost, user, registered, last_seen AS lastSeen
         FROM workflow WHERE id = ?`,
      )
      .get(id) as RegisteredWorkflow | undefined;
  } finally {
    db.close();
  }
}
