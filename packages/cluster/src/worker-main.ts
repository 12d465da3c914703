/**
 * Entry script of a local worker process spawned by the master: `node worker-main.js URL`.
 * The run's secret comes in the environment; the worker exits when its stdin (a pipe from the
 * master) closes, so a master that dies takes its workers, and their tasks, down.
 */
import { createLogger } from './log.js';
import { runWorkerProcess } from './run-worker.js';

const log = createLogger(Number(process.env.PEGASUS_TS_VERBOSITY ?? 3));
const connect = process.argv[2];
if (!connect) {
  log.fatal('usage: worker-main.js URL');
  process.exit(2);
}
runWorkerProcess({ connect, log, watchStdin: true }).then(
  (code) => process.exit(code),
  (err: Error) => {
    log.fatal(`worker: ${err.message}`);
    process.exit(1);
  },
);
