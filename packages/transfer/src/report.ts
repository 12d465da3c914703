import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { MoveAction } from './internal/move-file.js';
import type { SpecEntry } from './spec.js';

export type { MoveAction } from './internal/move-file.js';

/** The outcome of one spec entry. */
export interface EntryReport {
  /** position in the spec (0-based) */
  index: number;
  type: SpecEntry['type'];
  /** transfer entries */
  lfn?: string;
  ok: boolean;
  /** transfers: the source URL that worked */
  source?: string;
  /** transfers: every source URL, in the order tried */
  sources?: string[];
  /** transfers: the destination URL; mkdir/remove: the target URL */
  dest: string;
  /** transfers: what was done (`none`: the destination already was the source) */
  action?: MoveAction;
  bytes?: number;
  /** hex, when computed (a checksum to verify, integrity full, generate_checksum) */
  sha256?: string;
  /** first try to last, ms */
  durationMs: number;
  /** tries made (0 when the run was stopped before the entry started) */
  attempts: number;
  /** why it failed (one line) */
  error?: string;
}

/** What runTransfers returns and `--report` writes (JSON). */
export interface TransferReport {
  ok: boolean;
  total: number;
  succeeded: number;
  failed: number;
  /** bytes written by successful transfers */
  bytes: number;
  durationMs: number;
  entries: EntryReport[];
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(ms < 10_000 ? 3 : 1);
}

/** `transfer: 12 entries, 12 ok, 0 failed, 1048576 bytes in 0.250 s` */
export function summaryLine(r: TransferReport): string {
  return `transfer: ${r.total} entries, ${r.succeeded} ok, ${r.failed} failed, ${r.bytes} bytes in ${seconds(r.durationMs)} s`;
}

/** `failed: lfn "f.a" file:///a, http://b -> file:///d: reason` (mkdir/remove: `failed: mkdir URL: reason`). */
export function failureLine(e: EntryReport): string {
  if (e.type === 'transfer') {
    return `failed: lfn ${JSON.stringify(e.lfn)} ${(e.sources ?? []).join(', ')} -> ${e.dest}: ${e.error ?? 'failed'}`;
  }
  return `failed: ${e.type} ${e.dest}: ${e.error ?? 'failed'}`;
}

/** Writes the report as JSON (one entry per line) through a temp file and rename. */
export async function writeReport(path: string, r: TransferReport): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w');
  try {
    const { entries, ...head } = r;
    let buf = `${JSON.stringify(head).slice(0, -1)},"entries":[`;
    for (let i = 0; i < entries.length; i++) {
      buf += `${i ? ',' : ''}\n${JSON.stringify(entries[i])}`;
      if (buf.length >= 1 << 20) {
        await fh.write(buf);
        buf = '';
      }
    }
    await fh.write(`${buf}\n]}\n`);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  await rename(tmp, path);
}
