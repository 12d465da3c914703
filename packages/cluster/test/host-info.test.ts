import * as os from 'node:os';
import { describe, expect, it } from 'vitest';
import { countGpus, detectHost } from '../src/host-info.js';

describe('detectHost', () => {
  it('reports this machine', () => {
    const h = detectHost();
    expect(h.hostname).toBe(os.hostname());
    expect(h.cpus).toBe(os.availableParallelism());
    expect(h.memoryMb).toBe(Math.ceil(os.totalmem() / 1048576));
    expect(Number.isInteger(h.memoryMb)).toBe(true);
  });
});

describe('countGpus', () => {
  it('counts the GPU lines of nvidia-smi -L, not their MIG devices', () => {
    const out = [
      'GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-5d6a0f2c-aaaa-bbbb-cccc-000000000000)',
      '  MIG 1g.5gb     Device  0: (UUID: MIG-11111111-2222-3333-4444-555555555555)',
      'GPU 1: NVIDIA A100-SXM4-40GB (UUID: GPU-5d6a0f2c-aaaa-bbbb-cccc-000000000001)',
      '',
    ].join('\n');
    expect(countGpus(out)).toBe(2);
    expect(countGpus('No devices were found\n')).toBe(0);
  });
});
