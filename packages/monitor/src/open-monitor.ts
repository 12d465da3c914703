import { existsSync } from 'node:fs';
import { type Db, dbPath, openDatabase } from './database.js';
import { Ingester, type IngestStats } from './ingester.js';

/**
 * What status, analyzer and statistics call first: one ingest pass (so they work during a run,
 * after it, and before any database exists), then the database for queries. When the submit dir
 * is not writable but a database exists, it is opened read-only as it is.
 */
export async function openMonitor(submitDir: string): Promise<{ db: Db; stats: IngestStats | null }> {
  let ing: Ingester;
  try {
    ing = new Ingester(submitDir);
  } catch (err) {
    const code = (err as { message?: string }).message ?? '';
    if (existsSync(dbPath(submitDir)) && /readonly|EACCES|EROFS|cannot open/i.test(code)) {
      return { db: openDatabase(dbPath(submitDir), { readonly: true }), stats: null };
    }
    throw err;
  }
  try {
    const stats = await ing.ingest();
    return { db: ing.db, stats };
  } catch (err) {
    ing.close();
    throw err;
  }
}
