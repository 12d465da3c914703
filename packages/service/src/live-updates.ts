import type { Db } from '@pegasus-ts/monitor';

/**
 * A cheap fingerprint of a provenance database's progress: the newest jobstate, workflowstate
 * and invocation rows. It changes whenever the engine records something, so a page of a running
 * workflow knows when to fetch again (the rows themselves are read through the REST API).
 */
export function progressMark(db: Db): string {
  const r = db
    .prepare(
      `SELECT (SELECT max(rowid) FROM jobstate) AS js, (SELECT max(id) FROM workflowstate) AS ws,
              (SELECT max(invocation_id) FROM invocation) AS inv`,
    )
    .get() as { js: number | null; ws: number | null; inv: number | null };
  return `${r.js ?? 0}.${r.ws ?? 0}.${r.inv ?? 0}`;
}

/** A Server-Sent Events message. */
export function sseMessage(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
