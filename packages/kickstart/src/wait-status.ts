/**
 * Raw wait statuses (what wait(2) gives, and what invocation records, the cluster runner's
 * results, squeue's `exit_code` and the stampede database hold): `code << 8` for an exit,
 * the signal number (plus 0x80 with a core dump) for a kill, -1 for a task that could not start.
 * One definition of the arithmetic for every package; loads nothing (import it as
 * `@pegasus-ts/kickstart/wait-status`).
 */

/** Launch failure (the task never ran). */
export const LAUNCH_FAILED = -1;

/** What a raw status says: an exit code, or a signal (a stopped status counts as its signal). */
export function waitStatusParts(raw: number): { exitCode: number; signal: number; core: boolean } {
  const low = raw & 0x7f;
  if (low === 0) return { exitCode: (raw >> 8) & 0xff, signal: 0, core: false };
  if (low === 0x7f) return { exitCode: 0, signal: (raw >> 8) & 0xff, core: false };
  return { exitCode: 0, signal: low, core: (raw & 0x80) !== 0 };
}

/** The raw status of an exit code or a signal. */
export function waitStatusOf(code: number | null, signal: number | null): number {
  if (signal) return signal & 0x7f;
  return ((code ?? 0) & 0xff) << 8;
}

/** A raw status as a shell's exit code: the exit code, 128 + the signal, 127 when it could not start. */
export function exitCodeOfWaitStatus(raw: number): number {
  if (raw < 0) return 127;
  const p = waitStatusParts(raw);
  return p.signal ? 128 + p.signal : p.exitCode;
}

/** A shell's exit code (128+N for signal N; negative: unknown) back to a raw status (-1 unknown). */
export function waitStatusOfExitCode(exit: number): number {
  if (!Number.isInteger(exit) || exit < 0) return LAUNCH_FAILED;
  if (exit > 128 && exit < 128 + 65) return exit - 128;
  return (exit & 0xff) << 8;
}
