// Runs one command, measures its wall time, optionally its max RSS (GNU time), and collects
// the `[info] Key: value` lines the cluster master prints on stderr.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

const INFO = /^\[info\] (Load time|Peak RSS|Wall time|Throughput): ([0-9.eE+-]+)/;
const TAIL_BYTES = 16384;

/**
 * @param {string[]} argv command and arguments
 * @param {{ cwd?: string, stdin?: string, maxRss?: boolean, timeoutMs?: number, env?: object }} [opts]
 * @returns {Promise<{ code: number|null, signal: string|null, wallSeconds: number,
 *   maxRssMB: number|null, info: Record<string, number>, stderrTail: string }>}
 */
export function runCommand(argv, opts = {}) {
  let cmd = argv;
  let rssFile = null;
  if (opts.maxRss && GNU_TIME) {
    rssFile = join(tmpdir(), `bench-rss-${process.pid}-${Date.now()}`);
    cmd = [GNU_TIME, '-f', '%M', '-o', rssFile, ...argv];
  }
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd[0], cmd.slice(1), {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.stdin ? 'pipe' : 'ignore', 'ignore', 'pipe'],
    });
    if (opts.stdin) {
      child.stdin.on('error', () => {});
      child.stdin.end(opts.stdin);
    }
    const info = {};
    let tail = '';
    let partial = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      tail = (tail + chunk).slice(-TAIL_BYTES);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) scan(line, info);
    });
    let timer = null;
    if (opts.timeoutMs) {
      timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    }
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const wallSeconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (timer) clearTimeout(timer);
      scan(partial, info);
      let maxRssMB = null;
      if (rssFile) {
        try {
          const kb = Number.parseInt(readFileSync(rssFile, 'utf8').trim().split('\n').pop(), 10);
          if (Number.isFinite(kb)) maxRssMB = kb / 1024;
        } catch {}
        rmSync(rssFile, { force: true });
      }
      resolve({ code, signal, wallSeconds, maxRssMB, info, stderrTail: tail });
    });
  });
}

function scan(line, info) {
  const m = INFO.exec(line.trim());
  if (m) info[m[1]] = Number.parseFloat(m[2]);
}

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}
