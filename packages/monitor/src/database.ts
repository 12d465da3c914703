import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SUBMIT_FILES } from '@pegasus-ts/model';
import Database from 'better-sqlite3';
import { MonitorError } from './errors.js';

export type Db = Database.Database;

/** The database file in a submit dir. */
export const DB_FILE = SUBMIT_FILES.database;
/** Bumped when the schema changes; an older database is rebuilt from the submit dir's files. */
export const SCHEMA_VERSION = 3;

// In the spirit of Pegasus's stampede schema (Pegasus/db/schema.py): the same tables and key
// columns, plus a few denormalized ones (job.state, job_instance.final...) so that status stays
// a couple of GROUP BYs at a million tasks, and `ingest_offset` (how far each file was read,
// committed with the rows it produced, so a restarted ingest neither repeats nor skips).
/** statistics' covering index (built after the bulk of a first catch-up, see Ingester) */
export const INVOCATION_TASK_INDEX =
  'CREATE INDEX IF NOT EXISTS invocation_task ON invocation (task_id, exitcode)';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS dbversion (
  id INTEGER PRIMARY KEY, version_number INTEGER NOT NULL, version TEXT, version_timestamp REAL);
CREATE TABLE IF NOT EXISTS workflow (
  wf_id INTEGER PRIMARY KEY, wf_uuid TEXT NOT NULL UNIQUE, dag_file_name TEXT, timestamp TEXT,
  submit_hostname TEXT, submit_dir TEXT, planner_arguments TEXT, user TEXT, planner_version TEXT,
  dax_label TEXT, dax_version TEXT, dax_file TEXT, parent_wf_id INTEGER, root_wf_id INTEGER,
  job_count INTEGER, task_count INTEGER, edge_count INTEGER);
CREATE TABLE IF NOT EXISTS workflowstate (
  id INTEGER PRIMARY KEY, wf_id INTEGER NOT NULL, state TEXT NOT NULL, timestamp REAL NOT NULL,
  restart_count INTEGER NOT NULL, status INTEGER, reason TEXT, pid INTEGER);
CREATE TABLE IF NOT EXISTS host (
  host_id INTEGER PRIMARY KEY, wf_id INTEGER NOT NULL, site TEXT, hostname TEXT, ip TEXT,
  uname TEXT, total_memory INTEGER, UNIQUE (wf_id, site, hostname, ip));
CREATE TABLE IF NOT EXISTS job (
  job_id INTEGER PRIMARY KEY, wf_id INTEGER NOT NULL, exec_job_id TEXT NOT NULL UNIQUE,
  type_desc TEXT NOT NULL, site TEXT, clustered INTEGER NOT NULL, max_retries INTEGER NOT NULL,
  transformation TEXT, executable TEXT, argv TEXT, task_count INTEGER NOT NULL,
  first_task_id INTEGER, dag_file TEXT, multiplier_factor INTEGER NOT NULL DEFAULT 1,
  last_seq INTEGER NOT NULL DEFAULT 0, state TEXT, state_time REAL,
  failures INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS job_state ON job (state);
CREATE INDEX IF NOT EXISTS job_failing ON job (failures) WHERE failures > 0;
CREATE TABLE IF NOT EXISTS job_edge (
  wf_id INTEGER NOT NULL, parent_exec_job_id TEXT NOT NULL, child_exec_job_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS job_edge_child ON job_edge (child_exec_job_id);
CREATE TABLE IF NOT EXISTS job_instance (
  job_instance_id INTEGER PRIMARY KEY, job_id INTEGER NOT NULL, host_id INTEGER,
  job_submit_seq INTEGER NOT NULL, sched_id TEXT, site TEXT, work_dir TEXT,
  cluster_start REAL, cluster_duration REAL, local_duration REAL, stdout_file TEXT,
  stderr_file TEXT, multiplier_factor INTEGER NOT NULL DEFAULT 1, exitcode INTEGER,
  submit_time REAL, execute_time REAL, end_time REAL, state TEXT, state_time REAL,
  final TEXT, record_state INTEGER NOT NULL DEFAULT 0, record_start REAL, record_duration REAL,
  UNIQUE (job_id, job_submit_seq));
CREATE INDEX IF NOT EXISTS job_instance_pending ON job_instance (record_state) WHERE record_state = 0;
CREATE TABLE IF NOT EXISTS jobstate (
  job_instance_id INTEGER NOT NULL, state TEXT NOT NULL, timestamp REAL NOT NULL,
  jobstate_submit_seq INTEGER NOT NULL, reason TEXT);
CREATE INDEX IF NOT EXISTS jobstate_instance ON jobstate (job_instance_id);
CREATE TABLE IF NOT EXISTS task (
  task_id INTEGER PRIMARY KEY, wf_id INTEGER NOT NULL, job_id INTEGER, task_index INTEGER NOT NULL,
  abs_task_id TEXT, name TEXT, transformation TEXT, argv TEXT, type_desc TEXT);
CREATE TABLE IF NOT EXISTS invocation (
  invocation_id INTEGER PRIMARY KEY, wf_id INTEGER NOT NULL, job_instance_id INTEGER NOT NULL,
  task_submit_seq INTEGER NOT NULL, task_id INTEGER, start_time REAL, remote_duration REAL,
  remote_cpu_time REAL, exitcode INTEGER, exit_code INTEGER, signal INTEGER,
  transformation TEXT, executable TEXT, argv TEXT, abs_task_id TEXT, maxrss INTEGER,
  avg_cpu REAL, host_id INTEGER, work_dir TEXT, stdout_text TEXT, stderr_text TEXT,
  record_file TEXT, record_offset INTEGER);
CREATE INDEX IF NOT EXISTS invocation_instance ON invocation (job_instance_id);
${INVOCATION_TASK_INDEX};
CREATE TABLE IF NOT EXISTS files (
  file_id INTEGER PRIMARY KEY, wf_id INTEGER NOT NULL, job_id INTEGER NOT NULL, lfn TEXT NOT NULL,
  file_type TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ingest_offset (
  source TEXT PRIMARY KEY, offset INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
`;

/** The database path of a submit dir. */
export function dbPath(submitDir: string): string {
  return join(submitDir, DB_FILE);
}

/**
 * Opens (creating when missing, unless readonly) the monitor database: WAL mode (readers do not
 * block the writer and see committed rows while it writes), synchronous=NORMAL, a busy timeout
 * so that two writers (the engine's watcher and a tool's one-pass ingest) take turns.
 */
export function openDatabase(path: string, options: { readonly?: boolean } = {}): Db {
  if (options.readonly && !existsSync(path)) throw new MonitorError(`${path}: no such database`);
  let db: Db;
  try {
    db = new Database(path, {
      readonly: options.readonly ?? false,
      fileMustExist: options.readonly === true,
    });
  } catch (err) {
    throw new MonitorError(`${path}: cannot open the database (${(err as Error).message})`);
  }
  db.pragma('busy_timeout = 30000');
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('cache_size = -65536');
    db.pragma('temp_store = MEMORY');
    const version = tableExists(db, 'dbversion')
      ? (db.prepare('SELECT max(version_number) AS v FROM dbversion').get() as { v: number | null }).v
      : null;
    if (version !== null && version !== SCHEMA_VERSION) {
      // An older layout: start over (everything is rebuilt from the submit dir's files).
      const tables = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .all() as { name: string }[];
      db.exec('BEGIN IMMEDIATE');
      for (const t of tables) db.exec(`DROP TABLE IF EXISTS "${t.name.replaceAll('"', '""')}"`);
      db.exec('COMMIT');
      db.exec('VACUUM');
    }
    db.exec(SCHEMA);
    db.prepare(
      'INSERT INTO dbversion (id, version_number, version, version_timestamp) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
    ).run(SCHEMA_VERSION, `pegasus-ts-monitor-${SCHEMA_VERSION}`, Date.now() / 1000);
  } else {
    db.pragma('query_only = 1');
  }
  return db;
}

function tableExists(db: Db, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}
