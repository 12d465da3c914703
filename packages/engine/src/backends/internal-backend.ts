import { join } from 'node:path';
import type { Attempt, Backend, BackendEvents } from '../backend.js';
import type { PlanJob } from '../plan-file.js';
import { registerReplicas } from '../registration.js';

/**
 * Jobs the engine does itself, at once: `noop` (nothing to do) and `registration` (add the
 * outputs' locations to the submit dir's output-replicas.yml; idempotent, so an attempt cut short
 * by a crash is simply done again).
 */
export class InternalBackend implements Backend {
  readonly name = 'internal';

  constructor(
    private readonly events: BackendEvents,
    private readonly submitDir: string,
  ) {}

  hasRoom(_job: PlanJob): boolean {
    return true;
  }

  start(attempt: Attempt): void {
    const { index, job } = attempt;
    const started = Date.now();
    this.events.executing(index, String(process.pid));
    const done = (error?: Error): void => {
      const duration = (Date.now() - started) / 1000;
      if (error)
        this.events.ended(index, { outcome: 'failure', exitCode: 1, duration, reason: error.message });
      else this.events.ended(index, { outcome: 'success', exitCode: 0, duration });
    };
    if (job.kind !== 'registration') {
      setImmediate(done);
      return;
    }
    registerReplicas(join(this.submitDir, 'output-replicas.yml'), job.registrations ?? []).then(
      () => done(),
      (e: Error) => done(e),
    );
  }

  adopt(attempt: Attempt): void {
    this.start(attempt);
  }

  cancel(): void {}

  close(): void {}
}
