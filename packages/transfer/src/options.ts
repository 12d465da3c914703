import { UsageError } from './errors.js';

/**
 * What to checksum. `none`: nothing, not even sums the spec carries. `verify` (default): check
 * the sha256 a source carries (and `generate_checksum` entries). `full`
 * (`pegasus.integrity.checking=full`): also compute the sha256 of every file transferred.
 * `nosymlink`: as full, but symlinked files are neither computed nor checked.
 */
export type IntegrityMode = 'none' | 'verify' | 'full' | 'nosymlink';

export const INTEGRITY_MODES: readonly IntegrityMode[] = ['none', 'verify', 'full', 'nosymlink'];

export interface TransferOptions {
  /** tries per entry (each try walks all sources in order); default 3 */
  attempts?: number;
  /** delay before the 2nd try, in ms; default 1000 */
  backoffMs?: number;
  /** each further delay is multiplied by this; default 2 */
  backoffFactor?: number;
  /** delays vary by +- this fraction (0..1); default 0.2 */
  jitter?: number;
  /** default `verify` */
  integrity?: IntegrityMode;
  /** entries run at once; default 4 */
  jobs?: number;
  /** receives log lines (no newline): failed attempts, progress. Default: process.stderr */
  log?: (line: string) => void;
  /** a progress line every this many finished entries (default 100) ... */
  progressEvery?: number;
  /** ... or when this many ms passed since the last one (default 2000) */
  progressIntervalMs?: number;
  /** for the jitter (tests); default Math.random */
  random?: () => number;
  /** stops starting entries and interrupts the running ones (their temp files are removed) */
  signal?: AbortSignal;
  /**
   * fsync each copied file before its rename (default true); off for copies into a job's scratch
   * dir, which dies with the job anyway
   */
  durable?: boolean;
}

/** Options as the command line gives them (strings). */
export interface RawTransferOptions {
  attempts?: string;
  backoffMs?: string;
  integrity?: string;
  jobs?: string;
}

/** The options after defaults, validated. */
export interface ResolvedTransferOptions {
  attempts: number;
  backoffMs: number;
  backoffFactor: number;
  jitter: number;
  integrity: IntegrityMode;
  jobs: number;
  log: (line: string) => void;
  progressEvery: number;
  progressIntervalMs: number;
  random: () => number;
  signal: AbortSignal | undefined;
  durable: boolean;
}

function checkNumber(name: string, v: number, min: number, max: number, integer: boolean): number {
  if (typeof v !== 'number' || Number.isNaN(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new UsageError(
      `${name} is ${String(v)} (expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max})`,
    );
  }
  return v;
}

function checkIntegrity(v: string): IntegrityMode {
  if (!(INTEGRITY_MODES as readonly string[]).includes(v)) {
    throw new UsageError(`integrity is "${v}" (expected ${INTEGRITY_MODES.join(', ')})`);
  }
  return v as IntegrityMode;
}

/** Fills in the defaults and checks every value (UsageError, one line). */
export function resolveOptions(o: TransferOptions = {}): ResolvedTransferOptions {
  return {
    attempts: checkNumber('attempts', o.attempts ?? 3, 1, 100, true),
    backoffMs: checkNumber('backoff', o.backoffMs ?? 1000, 0, 3_600_000, false),
    backoffFactor: checkNumber('backoff factor', o.backoffFactor ?? 2, 1, 100, false),
    jitter: checkNumber('jitter', o.jitter ?? 0.2, 0, 1, false),
    integrity: checkIntegrity(o.integrity ?? 'verify'),
    jobs: checkNumber('jobs', o.jobs ?? 4, 1, 1024, true),
    log: o.log ?? ((line) => process.stderr.write(`${line}\n`)),
    progressEvery: checkNumber('progress every', o.progressEvery ?? 100, 1, Number.MAX_SAFE_INTEGER, true),
    progressIntervalMs: checkNumber('progress interval', o.progressIntervalMs ?? 2000, 0, 86_400_000, false),
    random: o.random ?? Math.random,
    signal: o.signal,
    durable: o.durable ?? true,
  };
}

function parseInteger(flag: string, v: string): number {
  if (!/^\s*\d+\s*$/.test(v)) throw new UsageError(`${flag} is "${v}" (expected a non-negative integer)`);
  return Number(v);
}

/** Turns command line strings into TransferOptions (UsageError naming the flag when bad). */
export function parseTransferOptions(raw: RawTransferOptions): TransferOptions {
  const o: TransferOptions = {};
  if (raw.attempts !== undefined) o.attempts = parseInteger('--attempts', raw.attempts);
  if (raw.backoffMs !== undefined) o.backoffMs = parseInteger('--backoff-ms', raw.backoffMs);
  if (raw.jobs !== undefined) o.jobs = parseInteger('--jobs', raw.jobs);
  if (raw.integrity !== undefined) {
    if (!(INTEGRITY_MODES as readonly string[]).includes(raw.integrity)) {
      throw new UsageError(`--integrity is "${raw.integrity}" (expected ${INTEGRITY_MODES.join(', ')})`);
    }
    o.integrity = raw.integrity as IntegrityMode;
  }
  try {
    resolveOptions(o);
  } catch (err) {
    if (err instanceof UsageError) {
      throw new UsageError(
        err.message.replace(
          /^(attempts|backoff|jobs) /,
          (_m, k: string) => `--${k === 'backoff' ? 'backoff-ms' : k} `,
        ),
      );
    }
    throw err;
  }
  return o;
}

/**
 * The mode for a `pegasus.integrity.checking` property value (`none`, `full`, `nosymlink`;
 * unset = Pegasus's default, `full`).
 */
export function integrityFromProperty(value: string | undefined): IntegrityMode {
  if (value === undefined || value === '') return 'full';
  const v = value.trim().toLowerCase();
  if (v === 'none' || v === 'full' || v === 'nosymlink') return v;
  throw new UsageError(`pegasus.integrity.checking is "${value}" (expected none, full or nosymlink)`);
}
