import type { LaunchHandle } from '../launcher.js';

// One set of process listeners, whatever the number of tasks running at once.
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGQUIT'] as const;
const active = new Set<LaunchHandle>();
const listeners = new Map<NodeJS.Signals, () => void>();

/** While a task runs, SIGINT/SIGTERM/SIGQUIT sent to this process go to its process group. */
export function forwardSignals(handle: LaunchHandle): () => void {
  active.add(handle);
  if (listeners.size === 0) {
    for (const sig of FORWARDED) {
      const l = () => {
        for (const h of active) h.signal(sig);
      };
      listeners.set(sig, l);
      process.on(sig, l);
    }
  }
  return () => {
    active.delete(handle);
    if (active.size === 0) {
      for (const [sig, l] of listeners) process.removeListener(sig, l);
      listeners.clear();
    }
  };
}
