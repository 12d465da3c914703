import { existsSync, readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Piscina } from 'piscina';
import type { HashResult } from './hash-worker.js';
import { isoTime } from './internal/iso-time.js';

/** kickstart's statinfo; keys are the record's YAML keys. */
export interface StatInfo {
  file_name?: string;
  temporary_name?: string;
  descriptor?: number;
  mode?: number;
  size?: number;
  inode?: number;
  nlink?: number;
  blksize?: number;
  blocks?: number;
  mtime?: string;
  atime?: string;
  ctime?: string;
  uid?: number;
  user?: string;
  gid?: number;
  group?: string;
  lfn?: string;
  output?: boolean;
  sha256?: string;
  checksum_timing?: number;
  /** errno when stat failed */
  error?: number;
  data_truncated?: boolean;
  data?: string;
}

/** One -S/-s entry: lfn=pfn. */
export interface StatEntry {
  lfn: string;
  path: string;
}

let users: Map<number, string> | undefined;
let groups: Map<number, string> | undefined;

function readIdFile(file: string): Map<number, string> {
  const m = new Map<number, string>();
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 3 && f[0]) {
        const id = Number(f[2]);
        if (!m.has(id)) m.set(id, f[0]);
      }
    }
  } catch {
    // no such file: names stay unknown
  }
  return m;
}

/** User name of a uid (from /etc/passwd, read once). */
export function userName(uid: number): string | undefined {
  users ??= readIdFile('/etc/passwd');
  return users.get(uid);
}

/** Group name of a gid (from /etc/group, read once). */
export function groupName(gid: number): string | undefined {
  groups ??= readIdFile('/etc/group');
  return groups.get(gid);
}

/** The hash pool, created on the first hash (piscina is loaded then: most launches hash nothing). */
let pool: Promise<Piscina<string, HashResult>> | undefined;

function workerFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const js = join(here, 'hash-worker.js');
  if (existsSync(js)) return js;
  // running from src/ (tests): use the compiled worker
  return join(here, '..', 'dist', 'hash-worker.js');
}

/** sha256 of a file, computed in a worker thread. */
export async function hashFile(path: string): Promise<HashResult> {
  pool ??= import('piscina').then(
    ({ Piscina }) =>
      new Piscina<string, HashResult>({
        filename: workerFile(),
        minThreads: 0,
        maxThreads: 2,
        idleTimeout: 500,
      }),
  );
  return (await pool).run(path);
}

/** Stops the hash worker threads (they also stop by themselves when idle). */
export async function closeHashPool(): Promise<void> {
  const p = pool;
  pool = undefined;
  if (p) await (await p).destroy();
}

/** stat a path into a statinfo; a failure gives { file_name, error: errno }. */
export async function statFile(path: string, opts: { lfn?: string; hash?: boolean } = {}): Promise<StatInfo> {
  const info: StatInfo = { file_name: path };
  try {
    const st = await stat(path);
    info.mode = st.mode;
    info.size = st.size;
    info.inode = st.ino;
    info.nlink = st.nlink;
    info.blksize = st.blksize;
    info.blocks = st.blocks;
    info.mtime = isoTime(st.mtimeMs);
    info.atime = isoTime(st.atimeMs);
    info.ctime = isoTime(st.ctimeMs);
    info.uid = st.uid;
    const u = userName(st.uid);
    if (u !== undefined) info.user = u;
    info.gid = st.gid;
    const g = groupName(st.gid);
    if (g !== undefined) info.group = g;
    if (opts.lfn !== undefined) info.lfn = opts.lfn;
    if (opts.hash && st.isFile()) {
      info.output = true;
      const h = await hashFile(path);
      info.sha256 = h.sha256;
      info.checksum_timing = h.seconds;
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (opts.lfn !== undefined) info.lfn = opts.lfn;
    info.error = typeof err.errno === 'number' ? Math.abs(err.errno) : 5;
  }
  return info;
}

/**
 * Expands -S/-s arguments: 'lfn=pfn', a plain 'pfn' (lfn = pfn), or '@listfile' holding one
 * entry per line (blank lines and '#' comments skipped). Relative paths resolve against cwd.
 */
export async function parseStatArgs(args: readonly string[], cwd: string): Promise<StatEntry[]> {
  const out: StatEntry[] = [];
  const add = (s: string) => {
    const eq = s.indexOf('=');
    const lfn = eq >= 0 ? s.slice(0, eq) : s;
    const pfn = eq >= 0 ? s.slice(eq + 1) : s;
    out.push({ lfn, path: isAbsolute(pfn) ? pfn : resolve(cwd, pfn) });
  };
  for (const a of args) {
    if (a.startsWith('@')) {
      const file = resolve(cwd, a.slice(1));
      for (const line of (await readFile(file, 'utf8')).split('\n')) {
        const t = line.trim();
        if (t && !t.startsWith('#')) add(t);
      }
    } else add(a);
  }
  return out;
}

/** statinfo of every entry (hashing them when `hash`), keyed by lfn, in order. */
export async function statEntries(
  entries: readonly StatEntry[],
  hash: boolean,
): Promise<[string, StatInfo][]> {
  const infos = await Promise.all(entries.map((e) => statFile(e.path, { lfn: e.lfn, hash })));
  return entries.map((e, i) => [e.lfn, infos[i]]);
}
