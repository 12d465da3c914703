import { describe, expect, it } from 'vitest';
import { failedLaunch, liteTaskArgs } from '../src/lite-task.js';

describe('liteTaskArgs', () => {
  it('recognises `pegasus-ts lite --spec FILE -- EXE ARGS` (any path to pegasus-ts)', () => {
    expect(liteTaskArgs(['pegasus-ts', 'lite', '--spec', '/s/lite/a.json', '--', '/bin/echo', 'x'])).toEqual({
      spec: '/s/lite/a.json',
      argv: ['/bin/echo', 'x'],
    });
    expect(liteTaskArgs(['/opt/bin/pegasus-ts', 'lite', '--spec', 'a.json', '--', 'exe'])?.argv).toEqual([
      'exe',
    ]);
  });
  it('leaves every other command alone', () => {
    expect(liteTaskArgs(['/bin/echo', 'lite'])).toBeUndefined();
    expect(liteTaskArgs(['pegasus-ts', 'transfer', '--spec', 'a.json', '--', 'exe'])).toBeUndefined();
    expect(liteTaskArgs(['pegasus-ts', 'lite', '--spec', 'a.json', '--'])).toBeUndefined();
    expect(liteTaskArgs(['pegasus-ts', 'lite', '--keep', '--spec', 'a.json', '--', 'exe'])).toBeUndefined();
  });
  it('a task whose files failed to move exits 1 (raw status 256)', () => {
    const r = failedLaunch(1000, '/bin/exe');
    expect(r.status).toEqual({ kind: 'exit', code: 1 });
    expect(r.raw).toBe(256);
    expect(r.executable).toBe('/bin/exe');
  });
});
