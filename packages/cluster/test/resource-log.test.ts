import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ResourceLog } from '../src/resource-log.js';

const tmp = mkdtempSync(join(tmpdir(), 'resource-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('ResourceLog', () => {
  it('appends CSV lines to DAGFILE.resource', () => {
    const dagFile = join(tmp, 'w.dag');
    for (let run = 0; run < 2; run++) {
      const log = ResourceLog.open(dagFile);
      log.record(1, 2, 1024, 'h1');
      log.record(0, 1, 1000, 'h1');
      log.flush();
      log.record(1, 2, 1024, 'h1');
      log.close();
    }
    const lines = readFileSync(`${dagFile}.resource`, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(6);
    for (const l of lines) expect(l).toMatch(/^\d+\.\d{6},\d+,\d+,\d+,h1$/);
    expect(lines[1].split(',').slice(1)).toEqual(['0', '1', '1000', 'h1']);
  });
});
