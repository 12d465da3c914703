// Every test run gets its own PEGASUS_TS_HOME (the service's master database of registered
// workflows): no test writes to ~/.pegasus-ts. Test workers and the processes they start inherit it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const home = mkdtempSync(join(tmpdir(), 'pegasus-ts-home-'));
  process.env.PEGASUS_TS_HOME = home;
  return () => rmSync(home, { recursive: true, force: true });
}
