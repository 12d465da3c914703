import { dbPath } from '../database.js';
import { MonitorError } from '../errors.js';
import type { IngestStatements } from './ingest-statements.js';

// The byte offset up to which each append-only file (jobstate.log, a cluster's record file) has
// been read is a row of ingest_offset, written (setOffset) in the same transaction as the rows
// read from the file.

/** The committed offset of a source file (0 if never read). */
export function offsetOf(st: IngestStatements, source: string): number {
  const row = st.getOffset.get(source) as { offset: number } | undefined;
  return row ? row.offset : 0;
}

/** The error for a file shorter than its committed offset: it was rewritten or truncated. */
export function shrunkFile(
  path: string,
  size: number,
  offset: number,
  submitDir: string,
  note = '',
): MonitorError {
  return new MonitorError(
    `${path}: the file is shorter (${size} bytes) than what was read before (${offset}); ${note}delete ${dbPath(submitDir)} to rebuild`,
  );
}
