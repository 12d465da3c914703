import { closeSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { EnsembleError } from './errors.js';
import { homePaths } from './home.js';

/** `server.json` in the home: where the running manager listens (no secret in it). */
export interface ServerInfo {
  url: string;
  pid: number;
  /** the server's self-signed certificate (PEM): clients trust it and nothing else */
  certificate?: string;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function writeServerInfo(home: string, info: ServerInfo): void {
  const path = homePaths.server(home);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(info)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/** The running manager of `home`, or undefined (none started, or it is gone). */
export function readServerInfo(home: string): ServerInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(homePaths.server(home), 'utf8')) as ServerInfo;
    return typeof info.url === 'string' && Number.isInteger(info.pid) && pidAlive(info.pid)
      ? info
      : undefined;
  } catch {
    return undefined;
  }
}

/** `server.pid`, created exclusively: one manager per home. A lock whose process is gone is taken over. */
export function lockHome(home: string): () => void {
  const path = homePaths.lock(home);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        rmSync(path, { force: true });
        rmSync(homePaths.server(home), { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new EnsembleError(`${path}: cannot create the manager lock: ${(err as Error).message}`, 1);
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pidAlive(pid))
        throw new EnsembleError(`${home}: an ensemble manager (pid ${pid}) already runs on this home`, 1);
      rmSync(path, { force: true });
    }
  }
  throw new EnsembleError(`${path}: cannot take the manager lock`, 1);
}
