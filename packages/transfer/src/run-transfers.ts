import { setTimeout as sleep } from 'node:timers/promises';
import { TransferError } from './errors.js';
import { backoffDelay } from './internal/backoff.js';
import { makeDirectory, removeTarget } from './internal/dir-ops.js';
import { describeError } from './internal/fs-errors.js';
import { type Moved, moveFile } from './internal/move-file.js';
import { forEachBounded } from './internal/pool.js';
import { type ResolvedTransferOptions, resolveOptions, type TransferOptions } from './options.js';
import type { EntryReport, TransferReport } from './report.js';
import type { SpecEntry, TransferEntry } from './spec.js';

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}

function reasonOf(err: unknown): string {
  return oneLine(err instanceof TransferError ? err.message : describeError(err));
}

/** One try of a transfer entry: each source in order, the first that works wins. */
async function tryTransfer(
  e: TransferEntry,
  o: ResolvedTransferOptions,
): Promise<Moved & { source: string }> {
  const reasons: string[] = [];
  let permanent = true;
  for (const src of e.src_urls) {
    o.signal?.throwIfAborted();
    try {
      const moved = await moveFile(
        e.lfn,
        src,
        e.dest_urls[0],
        o.integrity,
        e.generate_checksum === true,
        o.signal,
        o.durable,
      );
      return { ...moved, source: src.url };
    } catch (err) {
      if (o.signal?.aborted) throw err;
      if (!(err instanceof TransferError && err.permanent)) permanent = false;
      reasons.push(e.src_urls.length > 1 ? `${src.url}: ${reasonOf(err)}` : reasonOf(err));
    }
  }
  throw new TransferError(reasons.join('; '), permanent);
}

function describeEntry(e: SpecEntry): string {
  return e.type === 'transfer' ? `lfn ${JSON.stringify(e.lfn)}` : `${e.type} ${e.target.url}`;
}

async function runEntry(e: SpecEntry, index: number, o: ResolvedTransferOptions): Promise<EntryReport> {
  const start = performance.now();
  const r: EntryReport =
    e.type === 'transfer'
      ? {
          index,
          type: e.type,
          lfn: e.lfn,
          ok: false,
          sources: e.src_urls.map((s) => s.url),
          dest: e.dest_urls[0].url,
          durationMs: 0,
          attempts: 0,
        }
      : { index, type: e.type, ok: false, dest: e.target.url, durationMs: 0, attempts: 0 };
  for (let attempt = 1; attempt <= o.attempts; attempt++) {
    r.attempts = attempt;
    try {
      if (e.type === 'transfer') {
        const m = await tryTransfer(e, o);
        r.source = m.source;
        r.action = m.action;
        r.bytes = m.bytes;
        if (m.sha256 !== undefined) r.sha256 = m.sha256;
      } else if (e.type === 'mkdir') await makeDirectory(e.target);
      else await removeTarget(e.target, e.recursive);
      r.ok = true;
      delete r.error;
      break;
    } catch (err) {
      r.error = o.signal?.aborted ? 'stopped' : reasonOf(err);
      const last =
        attempt === o.attempts || (err instanceof TransferError && err.permanent) || o.signal?.aborted;
      const delay = last ? 0 : backoffDelay(attempt, o.backoffMs, o.backoffFactor, o.jitter, o.random);
      o.log(
        `transfer: ${describeEntry(e)} attempt ${attempt}/${o.attempts} failed: ${r.error}; ${
          last ? 'giving up' : `retrying in ${(delay / 1000).toFixed(3)} s`
        }`,
      );
      if (last) break;
      try {
        await sleep(delay, undefined, { signal: o.signal });
      } catch {
        r.error = 'stopped';
        break;
      }
    }
  }
  r.durationMs = Math.round((performance.now() - start) * 1000) / 1000;
  return r;
}

/**
 * Runs spec entries, at most `jobs` at once, each with `attempts` tries and exponential backoff.
 * Never throws for a failed entry: the report says what worked. Throws UsageError for bad options.
 */
export async function runTransfers(
  entries: readonly SpecEntry[],
  options: TransferOptions = {},
): Promise<TransferReport> {
  const o = resolveOptions(options);
  const start = performance.now();
  const results = new Array<EntryReport>(entries.length);
  let done = 0;
  let failed = 0;
  let bytes = 0;
  let lastProgress = start;
  await forEachBounded(
    entries.length,
    o.jobs,
    async (i) => {
      const r = await runEntry(entries[i], i, o);
      results[i] = r;
      done++;
      if (r.ok) bytes += r.bytes ?? 0;
      else failed++;
      const now = performance.now();
      if (
        done < entries.length &&
        (done % o.progressEvery === 0 || now - lastProgress >= o.progressIntervalMs)
      ) {
        lastProgress = now;
        o.log(
          `transfer: progress ${done}/${entries.length} entries, ${failed} failed, ${bytes} bytes, ${((now - start) / 1000).toFixed(1)} s`,
        );
      }
    },
    () => o.signal?.aborted === true,
  );
  for (let i = 0; i < entries.length; i++) {
    if (results[i]) continue;
    const e = entries[i];
    failed++;
    results[i] = {
      index: i,
      type: e.type,
      ...(e.type === 'transfer' ? { lfn: e.lfn, sources: e.src_urls.map((s) => s.url) } : {}),
      ok: false,
      dest: e.type === 'transfer' ? e.dest_urls[0].url : e.target.url,
      durationMs: 0,
      attempts: 0,
      error: 'not started: the run was stopped',
    };
  }
  return {
    ok: failed === 0,
    total: entries.length,
    succeeded: entries.length - failed,
    failed,
    bytes,
    durationMs: Math.round((performance.now() - start) * 1000) / 1000,
    entries: results,
  };
}
