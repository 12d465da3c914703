// Runs in a piscina worker thread: sha256 of one file, never on the main thread.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export interface HashResult {
  sha256: string;
  /** seconds spent hashing */
  seconds: number;
}

export default async function hashFile(path: string): Promise<HashResult> {
  const t0 = performance.now();
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return { sha256: h.digest('hex'), seconds: (performance.now() - t0) / 1000 };
}
