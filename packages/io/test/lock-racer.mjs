// Test helper: prints "ready", waits for GO_FILE to exist, then tries to take LOCK once; prints "won" or "lost",
// then holds a won lock until STOP_FILE exists (so the other racers meet a live holder).
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const [dist, lock, go, stop] = process.argv.slice(2);
const { LockFile } = await import(dist);
console.log('ready');
while (!existsSync(go)) await sleep(2);
const got = LockFile.tryAcquire(lock);
if (got instanceof LockFile) {
  console.log('won');
  while (!existsSync(stop)) await sleep(10);
  got.release();
} else {
  console.log(`lost ${got.holder.pid}`);
}
