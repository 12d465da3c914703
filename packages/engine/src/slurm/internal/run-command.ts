import { execFile } from 'node:child_process';
import { SlurmError } from '../slurm-error.js';

export interface CommandOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs: number;
  /** extra tries after a transient failure (controller busy, timeout) */
  retries: number;
  /** first pause before a retry; doubles each time (at most 8 s) */
  retryDelayMs: number;
  /** stderr texts that mean "no error" (e.g. `Invalid job id specified` from squeue -j) */
  benign?: RegExp;
  /**
   * Called before a retry: true = retry, false = give up with the error. Resolving to a
   * string makes that string the command's stdout (e.g. sbatch found its job after all).
   */
  beforeRetry?: (err: SlurmError) => Promise<boolean | string>;
}

/** What stderr says when the controller is busy, restarting or briefly unreachable. */
const TRANSIENT =
  /Socket timed out|temporarily unable|Unable to contact slurm controller|Resource temporarily unavailable|Zero Bytes were transmitted|Connection refused|Connection reset|Transport endpoint is not connected|slurm_receive_msg|Slurm backup controller in standby|Communication connection failure/i;

/** Whether a failed command is worth trying again. */
export function isTransient(err: SlurmError): boolean {
  return err.kind === 'timeout' || err.kind === 'transient';
}

/** `cmd args` shortened for messages. */
export function commandLine(cmd: string, args: readonly string[]): string {
  const text = [cmd, ...args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a)))].join(' ');
  return text.length > 240 ? `${text.slice(0, 237)}...` : text;
}

function oneLine(text: string, max = 600): string {
  const t = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' / ');
  return t.length > max ? `${t.slice(0, max - 3)}...` : t;
}

function runOnce(cmd: string, args: readonly string[], o: CommandOptions): Promise<string> {
  const command = commandLine(cmd, args);
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      {
        env: o.env,
        cwd: o.cwd,
        timeout: o.timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 1 << 30,
        encoding: 'utf8',
        windowsHide: true,
      },
      (error, stdout, stderr) => {
        if (!error) {
          resolve(stdout);
          return;
        }
        const e = error as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
        const err = stderr.trim();
        if (e.code === 'ENOENT') {
          reject(
            new SlurmError(
              'missing',
              `${cmd}: command not found on PATH (is Slurm installed? apt-get install slurm-wlm)`,
              { command },
            ),
          );
          return;
        }
        if (e.killed || e.code === 'ETIMEDOUT') {
          reject(
            new SlurmError('timeout', `${command} did not answer within ${o.timeoutMs} ms`, {
              command,
              stderr: err,
            }),
          );
          return;
        }
        const exitCode = typeof e.code === 'number' ? e.code : undefined;
        if (o.benign?.test(err)) {
          resolve(stdout);
          return;
        }
        const how = exitCode !== undefined ? `exit ${exitCode}` : (e.message ?? 'error');
        reject(
          new SlurmError(
            TRANSIENT.test(err) ? 'transient' : 'failed',
            `${command} failed (${how}): ${oneLine(err) || '(no error message)'}`,
            { command, stderr: err, exitCode },
          ),
        );
      },
    );
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Runs a Slurm client command without a shell and returns its stdout; retries transient
 * failures (busy controller, timeouts) with a doubling pause; throws a one-line SlurmError.
 */
export async function runSlurmCommand(
  cmd: string,
  args: readonly string[],
  o: CommandOptions,
): Promise<string> {
  let delay = o.retryDelayMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await runOnce(cmd, args, o);
    } catch (e) {
      const err = e as SlurmError;
      if (!(err instanceof SlurmError) || !isTransient(err) || attempt >= o.retries) {
        if (err instanceof SlurmError && isTransient(err) && attempt > 0) {
          throw new SlurmError(err.kind, `${err.message} (tried ${attempt + 1} times)`, {
            command: err.command,
            stderr: err.stderr,
            exitCode: err.exitCode,
          });
        }
        throw err;
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 8000);
      if (o.beforeRetry) {
        const go = await o.beforeRetry(err);
        if (typeof go === 'string') return go;
        if (!go) throw err;
      }
    }
  }
}
