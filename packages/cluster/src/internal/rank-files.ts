/**
 * PMC's per-worker output files: `BASE.<rank>` (e.g. `DAG.out.1`), appended to (output a
 * killed run left there is kept), merged in rank order into one stream at the end and removed.
 */
import * as fs from 'node:fs';
import { BufferedWriter, writeFully } from '@pegasus-ts/io';

const COPY_CHUNK = 1 << 20;

export class RankFiles {
  private readonly files = new Map<number, BufferedWriter>();
  private merged = false;

  /** `into`: the fd the files are merged into (never closed). */
  constructor(
    readonly base: string,
    private readonly into: number,
  ) {}

  pathOf(rank: number): string {
    return `${this.base}.${rank}`;
  }

  /** The file of a rank, opened (appending) on first use. */
  of(rank: number): BufferedWriter {
    let f = this.files.get(rank);
    if (!f) {
      f = BufferedWriter.append(this.pathOf(rank));
      this.files.set(rank, f);
    }
    return f;
  }

  flush(): void {
    for (const f of this.files.values()) f.flush();
  }

  /**
   * Closes the files and copies each to the merge target in rank order, removing it after. A
   * second call does nothing.
   */
  merge(): void {
    if (this.merged) return;
    this.merged = true;
    for (const f of this.files.values()) f.close();
    const ranks = [...this.files.keys()].sort((a, b) => a - b);
    const buf = Buffer.allocUnsafe(COPY_CHUNK);
    for (const rank of ranks) {
      const path = this.pathOf(rank);
      const fd = fs.openSync(path, 'r');
      try {
        for (
          let n = fs.readSync(fd, buf, 0, COPY_CHUNK, null);
          n > 0;
          n = fs.readSync(fd, buf, 0, COPY_CHUNK, null)
        ) {
          writeFully(this.into, buf.subarray(0, n));
        }
      } finally {
        fs.closeSync(fd);
      }
      fs.unlinkSync(path);
    }
  }
}
