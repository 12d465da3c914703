import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { processStartTime, startedBefore } from '../src/process-start.js';

describe('processStartTime / startedBefore', () => {
  it('reads when a real process started, to about a second', async () => {
    const before = Date.now();
    const child = spawn('sleep', ['5']);
    try {
      await new Promise((r) => child.once('spawn', r));
      const started = processStartTime(child.pid as number) as number;
      expect(started).toBeGreaterThan(before - 2000);
      expect(started).toBeLessThan(Date.now() + 2000);
      // a pid file written now can be this process's; one written a minute ago cannot (pid reuse)
      expect(startedBefore(child.pid as number, Date.now())).toBe(true);
      expect(startedBefore(child.pid as number, Date.now() - 60_000)).toBe(false);
    } finally {
      child.kill();
    }
  });

  it('this process started before now; a gone or invalid pid has no start time', () => {
    expect(startedBefore(process.pid, Date.now())).toBe(true);
    expect(processStartTime(process.pid)).toBeLessThanOrEqual(Date.now() + 2000);
    expect(processStartTime(0)).toBeUndefined();
    expect(processStartTime(-5)).toBeUndefined();
    expect(processStartTime(2 ** 30)).toBeUndefined();
  });
});
