import { describe, expect, it } from 'vitest';
import {
  exitCodeOfWaitStatus,
  waitStatusOf,
  waitStatusOfExitCode,
  waitStatusParts,
} from '../src/wait-status.js';

describe('wait statuses', () => {
  it('decodes exits, signals, core dumps and stops, and encodes them back', () => {
    expect(waitStatusParts(768)).toEqual({ exitCode: 3, signal: 0, core: false });
    expect(waitStatusParts(9)).toEqual({ exitCode: 0, signal: 9, core: false });
    expect(waitStatusParts(0x80 | 11)).toEqual({ exitCode: 0, signal: 11, core: true });
    expect(waitStatusParts((19 << 8) | 0x7f)).toEqual({ exitCode: 0, signal: 19, core: false });
    expect(waitStatusOf(3, null)).toBe(768);
    expect(waitStatusOf(null, 15)).toBe(15);
  });

  it('converts to and from a shell exit code', () => {
    expect([768, 9, 0, -1].map(exitCodeOfWaitStatus)).toEqual([3, 137, 0, 127]);
    expect([3, 137, 0, -1].map(waitStatusOfExitCode)).toEqual([768, 9, 0, -1]);
  });
});
