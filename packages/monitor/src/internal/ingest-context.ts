import type { Db } from '../database.js';
import { type IngestStatements, prepareIngestStatements } from './ingest-statements.js';

/**
 * What the parts of an ingest pass share: the database and its prepared statements, the submit
 * dir, the limits, and the caches of row ids (host, job) valid while no transaction rolls back.
 */
export class IngestContext {
  readonly st: IngestStatements;
  readonly hostIds = new Map<string, number>();
  lastHost: [string | null, string | null, string | null, number] | undefined;
  readonly jobIds = new Map<string, number>();

  constructor(
    readonly db: Db,
    readonly submitDir: string,
    /** bytes read per transaction from an append-only file */
    readonly chunk: number,
    /** seconds a cluster's record file must have been quiet before its last record is read */
    readonly quiet: number,
  ) {
    this.st = prepareIngestStatements(db);
  }

  /** Rolls back the open transaction; the caches may name rows that are gone now. */
  rollback(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    this.hostIds.clear();
    this.lastHost = undefined;
    this.jobIds.clear();
  }
}

/** Lets the event loop run between two transactions. */
export const yieldLoop = () => new Promise<void>((r) => setImmediate(r));
