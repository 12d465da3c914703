import { describe, expect, it } from 'vitest';
import { formatClusterSummary, formatClusterTask, isoLocal } from '../src/cluster-records.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$/;

describe('cluster records', () => {
  it('formats local ISO 8601 times with ms and offset that parse back to the same instant', () => {
    const t = Date.UTC(2024, 0, 2, 3, 4, 5, 67);
    const s = isoLocal(t);
    expect(s).toMatch(ISO);
    expect(Date.parse(s)).toBe(t);
    expect(isoLocal(new Date(t))).toBe(s);
  });

  it('formats a cluster-task record, with and without id', () => {
    const t = Date.UTC(2024, 0, 2, 3, 4, 5, 67);
    const rec = {
      name: 'A',
      start: t,
      duration: 1.23456,
      status: 256,
      app: '/bin/false',
      hostname: 'h1',
      slot: 2,
      cpus: 1,
      memory: 0,
    };
    expect(formatClusterTask(rec)).toBe(
      `[cluster-task name=A, start="${isoLocal(t)}", duration=1.235, status=256, app="/bin/false", hostname="h1", slot=2, cpus=1, memory=0]`,
    );
    expect(formatClusterTask({ ...rec, id: 'ID01' })).toMatch(/^\[cluster-task id=ID01, name=A, start=/);
  });

  it('formats a cluster-summary record', () => {
    const t = Date.UTC(2024, 0, 2, 3, 4, 5, 67);
    const s = formatClusterSummary({
      ok: true,
      tasks: 4,
      submitted: 5,
      succeeded: 4,
      failed: 1,
      start: t,
      duration: 2,
      pid: 42,
      app: 'pegasus-ts',
      runtime: 0.5,
      slots: 2,
    });
    expect(s).toBe(
      `[cluster-summary stat="ok", tasks=4, submitted=5, succeeded=4, failed=1, extra=0, start="${isoLocal(t)}", duration=2.000, pid=42, app="pegasus-ts", runtime=0.500, slots=2, cpus=0]`,
    );
    expect(
      formatClusterSummary({
        ok: false,
        tasks: 0,
        submitted: 0,
        succeeded: 0,
        failed: 0,
        start: t,
        duration: 0,
        pid: 1,
        app: 'a',
        runtime: 0,
        slots: 1,
        cpus: 8,
      }),
    ).toMatch(/^\[cluster-summary stat="failed", .* cpus=8\]$/);
  });
});
