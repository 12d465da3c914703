import type { Attempt, Backend, BackendEvents } from '../backend.js';
import type { PlanJob } from '../plan-file.js';

/** `noop` jobs (everything they stood for was reused): done in the engine at once. */
export class InternalBackend implements Backend {
  readonly name = 'internal';

  constructor(private readonly events: BackendEvents) {}

  hasRoom(_job: PlanJob): boolean {
    return true;
  }

  start(attempt: Attempt): void {
    this.events.executing(attempt.index, String(process.pid));
    setImmediate(() => this.events.ended(attempt.index, { outcome: 'success', exitCode: 0, duration: 0 }));
  }

  adopt(attempt: Attempt): void {
    this.start(attempt);
  }

  cancel(): void {}

  close(): void {}
}
