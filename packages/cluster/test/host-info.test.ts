import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { countGpus, detectGpus, detectHost } from '../src/host-info.js';

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

describe('detectGpus', () => {
  it('counts what an nvidia-smi on PATH lists, and 0 without one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'host-gpus-'));
    const path = process.env.PATH;
    try {
      writeFileSync(
        join(dir, 'nvidia-smi'),
        '#!/bin/sh\n[ "$1" = -L ] || exit 9\necho "GPU 0: Fake (UUID: GPU-0)"\necho "GPU 1: Fake (UUID: GPU-1)"\n',
        { mode: 0o755 },
      );
      process.env.PATH = `${dir}:${path}`;
      expect(detectGpus()).toBe(2);
      process.env.PATH = join(dir, 'nowhere');
      expect(detectGpus()).toBe(0);
    } finally {
      process.env.PATH = path;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
