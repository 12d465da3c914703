// Runs one plan attempt detached from the manager: `node plan-wrapper.js ATTEMPT_DIR CWD -- CMD ARGS...`.
// It first claims the attempt (creates ATTEMPT_DIR/claim exclusively with its pid): a manager
// restarted after a kill -9 claims an attempt nobody claimed, so that a wrapper starting late
// does nothing and the workflow is never planned twice. Then it runs the plan command with
// stdout and stderr in ATTEMPT_DIR and writes its exit code to ATTEMPT_DIR/exit (atomically).
import { spawn } from 'node:child_process';
import { openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { claimFile } from './claim.js';

const [dir, cwd, sep, ...command] = process.argv.slice(2);
if (!dir || !cwd || sep !== '--' || command.length === 0) {
  process.stderr.write('usage: plan-wrapper ATTEMPT_DIR CWD -- COMMAND [ARGS...]\n');
  process.exit(2);
}

function finish(code: number): void {
  const tmp = join(dir, 'exit.tmp');
  writeFileSync(tmp, `${code}\n`);
  renameSync(tmp, join(dir, 'exit'));
  process.exit(0);
}

if (!claimFile(dir, `${process.pid}\n`)) process.exit(0); // claimed by a manager that gave this attempt up

const out = openSync(join(dir, 'stdout'), 'a');
const err = openSync(join(dir, 'stderr'), 'a');
const child = spawn(command[0], command.slice(1), { cwd, stdio: ['ignore', out, err] });
child.on('error', (e) => {
  writeSync(err, `cannot start ${command[0]}: ${e.message}\n`);
  finish(127);
});
child.on('exit', (code, signal) => {
  finish(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
});
