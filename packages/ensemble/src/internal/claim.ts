import { linkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Claims a plan attempt: `DIR/claim` appears with `content` whole or not at all (written beside
 * it, then hard-linked, which fails when the claim exists). True for the one caller that got it.
 */
export function claimFile(dir: string, content: string): boolean {
  const tmp = join(dir, `claim.${process.pid}.tmp`);
  writeFileSync(tmp, content);
  try {
    linkSync(tmp, join(dir, 'claim'));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return false;
  } finally {
    rmSync(tmp, { force: true });
  }
}
