/**
 * DAGFILE.resource (unless --no-resource-log), appended: CSV lines
 * `timestamp,slots_free,cpus_free,memory_free_MB,hostname` (timestamp = epoch seconds, 6
 * decimals), one per host after registration and one after every allocation and release.
 */
import { BufferedWriter } from '@pegasus-ts/io';

export class ResourceLog {
  private constructor(
    readonly path: string,
    private readonly out: BufferedWriter,
  ) {}

  static pathFor(dagFile: string): string {
    return `${dagFile}.resource`;
  }

  static open(dagFile: string, path = ResourceLog.pathFor(dagFile)): ResourceLog {
    return new ResourceLog(path, BufferedWriter.append(path));
  }

  /** One line with the host's free slots, CPUs and memory (MB) now. */
  record(slotsFree: number, cpusFree: number, memoryFreeMb: number, hostname: string): void {
    const ts = ((performance.timeOrigin + performance.now()) / 1000).toFixed(6);
    this.out.write(`${ts},${slotsFree},${cpusFree},${memoryFreeMb},${hostname}\n`);
  }

  flush(): void {
    this.out.flush();
  }

  close(): void {
    this.out.close();
  }
}
