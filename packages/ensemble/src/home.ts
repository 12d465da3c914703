import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The manager's home: `--home DIR` when given, else `$PEGASUS_TS_HOME/em` (the variable the
 * service uses for its root), else `~/.pegasus-ts/em`. Everything the manager writes is in it.
 */
export function emHome(env: NodeJS.ProcessEnv, flag?: string): string {
  if (flag) return resolve(flag);
  return join(env.PEGASUS_TS_HOME ? resolve(env.PEGASUS_TS_HOME) : join(homedir(), '.pegasus-ts'), 'em');
}

/** Where each file of the home is. */
export const homePaths = {
  db: (home: string) => join(home, 'em.db'),
  server: (home: string) => join(home, 'server.json'),
  lock: (home: string) => join(home, 'server.pid'),
  planAttempt: (home: string, ensemble: string, workflow: string, attempt: number) =>
    join(home, 'workflows', ensemble, workflow, `plan.${String(attempt).padStart(3, '0')}`),
  processed: (home: string, ensemble: string, trigger: string) =>
    join(home, 'triggers', ensemble, trigger, 'processed'),
};
