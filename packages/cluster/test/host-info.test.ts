import * as os from 'node:os';
import { describe, expect, it } from 'vitest';
import { detectHost } from '../src/host-info.js';

describe('detectHost', () => {
  it('reports this machine', () => {
    const h = detectHost();
    expect(h.hostname).toBe(os.hostname());
    expect(h.cpus).toBe(os.availableParallelism());
    expect(h.memoryMb).toBe(Math.ceil(os.totalmem() / 1048576));
    expect(Number.isInteger(h.memoryMb)).toBe(true);
  });
});
