import type { LaunchResult } from './launcher.js';

/**
 * pegasus-kickstart's exit code for a task (spec 4.2): a timeout forces 14 (SIGALRM); otherwise
 * exit code as is, killed by signal s -> 128 + s, stdio reconnection failure -> 126, any other
 * launch failure (exec, working directory, ...) -> 127.
 */
export function kickstartExitCode(r: LaunchResult): number {
  if (r.timedOut) return 14;
  switch (r.status.kind) {
    case 'exit':
      return r.status.code;
    case 'signal':
      return 128 + r.status.signal;
    case 'launch-failure':
      return r.status.stage === 'stdio' || r.status.stage === 'capture' ? 126 : 127;
  }
}

/** Exit code when kickstart cannot write its record. */
export const RECORD_WRITE_FAILED = 1;
