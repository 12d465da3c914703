import * as os from 'node:os';

export interface HostInfo {
  hostname: string;
  cpus: number;
  /** Physical memory in MB, rounded up. */
  memoryMb: number;
}

/** This machine's name, CPU count and memory (what a worker registers with). */
export function detectHost(): HostInfo {
  return {
    hostname: os.hostname(),
    cpus: Math.max(1, os.availableParallelism()),
    memoryMb: Math.ceil(os.totalmem() / (1024 * 1024)),
  };
}
