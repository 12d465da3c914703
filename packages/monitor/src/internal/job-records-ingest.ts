import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseInvocationText } from '@pegasus-ts/kickstart/record-reader';
import type { IngestStats } from '../ingest-stats.js';
import { type IngestContext, yieldLoop } from './ingest-context.js';
import { insertRecord } from './record-insert.js';

/** invocations/JOB.NNN.yml of attempts that ended. */
export async function ingestJobRecords(cx: IngestContext, stats: IngestStats): Promise<void> {
  interface Pending {
    id: number;
    seq: number;
    final: string | null;
    t: number | null;
    site: string | null;
    name: string;
    clustered: number;
    first_task_id: number | null;
    task_count: number;
  }
  const pending = cx.st.pendingRecords.all() as Pending[];
  const db = cx.db;
  const now = Date.now() / 1000;
  for (let i = 0; i < pending.length; i += 2000) {
    db.exec('BEGIN IMMEDIATE');
    try {
      for (const p of pending.slice(i, i + 2000)) {
        const nnn = String(p.seq - 1).padStart(3, '0');
        const rel = `invocations/${p.name}.${nnn}.yml`;
        let text: string;
        try {
          text = readFileSync(join(cx.submitDir, rel), 'utf8');
        } catch {
          // no record (yet): an aborted attempt may never get one
          if (p.final !== null && (p.t === null || now - p.t > 5)) cx.st.setRecordState.run(2, p.id);
          continue;
        }
        stats.bytes += text.length;
        const { records, bad } = parseInvocationText(text, true);
        stats.badRecords += bad;
        let host: number | null = null;
        records.forEach((r, k) => {
          const seq = p.clustered ? 0 : k + 1;
          const task = !p.clustered && p.task_count === 1 ? p.first_task_id : null;
          const h = insertRecord(cx, r, p.id, seq, task, p.site, rel, r.offset);
          host ??= h;
          stats.records++;
        });
        const r0 = records[0];
        cx.st.instanceFromRecord.run(
          host,
          r0?.cwd ?? null,
          p.clustered && r0 ? r0.start : null,
          p.clustered && r0 ? r0.duration : null,
          `jobs/${p.name}.out.${nnn}`,
          `jobs/${p.name}.err.${nnn}`,
          r0 ? r0.start : null,
          r0 ? r0.duration : null,
          p.id,
        );
      }
      db.exec('COMMIT');
    } catch (err) {
      cx.rollback();
      throw err;
    }
    await yieldLoop();
  }
}
