import { parseTaskLine } from '@pegasus-ts/cluster/dag-format';
import { describe, expect, it } from 'vitest';
import { clusterDagText, taskOptions } from '../src/emit/cluster-dag.js';
import { emitSbatch } from '../src/emit/sbatch.js';
import { auxJob, type ExecJob } from '../src/executable-workflow.js';

const task = (name: string, profiles: ExecJob['profiles']): ExecJob => ({
  ...auxJob(name, 'compute', 'a', 'ns::t:1', ['/bin/t', name], 0, 0),
  profiles,
});

describe('cluster .dag TASK options', () => {
  it('asks for GPUs from the pegasus gpus profile (or condor request_gpus), none when 0', () => {
    expect(taskOptions(task('a', { pegasus: { gpus: 2, cores: 4 } }))).toMatchObject({ gpus: 2, cpus: 4 });
    expect(taskOptions(task('b', { condor: { request_gpus: '1.5' } })).gpus).toBe(2);
    expect(taskOptions(task('c', { pegasus: { gpus: 0 } })).gpus).toBeUndefined();
    expect(() => taskOptions(task('d', { pegasus: { gpus: 'many' } }))).toThrow(
      'job "d": pegasus profile gpus is "many" (expected a number of GPUs >= 0)',
    );
    const cluster = {
      ...task('merge', {}),
      kind: 'cluster' as const,
      tasks: [task('g', { pegasus: { gpus: 1 } })],
    };
    const line = clusterDagText(cluster)
      .split('\n')
      .find((l) => l.startsWith('TASK'));
    expect(line).toBe('TASK g -g 1 -t 1 /bin/t g');
    expect(parseTaskLine(line as string)).toEqual({ name: 'g', argv: ['/bin/t', 'g'] });
  });

  it('a Slurm script asks for the GPUs of the task that asks the most (#SBATCH --gres=gpu:N), none when no task does', () => {
    const site = { name: 'hpc', directories: [], grids: [], profiles: {} } as unknown as Parameters<
      typeof emitSbatch
    >[1];
    const cluster = (tasks: ExecJob[]): ExecJob => ({ ...task('merge', {}), kind: 'cluster', tasks });
    const script = emitSbatch(
      cluster([
        task('a', { pegasus: { gpus: 1 } }),
        task('b', { condor: { request_gpus: 3 } }),
        task('c', {}),
      ]),
      site,
      { submitDir: '/s' },
    );
    const gres = script.split('\n').filter((l) => l.includes('--gres'));
    expect(gres).toEqual(['#SBATCH --gres=gpu:3']);
    const none = emitSbatch(cluster([task('c', {}), task('d', { pegasus: { gpus: 0 } })]), site, {
      submitDir: '/s',
    });
    expect(none).not.toContain('--gres');
    expect(() =>
      emitSbatch(cluster([task('e', { pegasus: { gpus: 'x' } })]), site, { submitDir: '/s' }),
    ).toThrow('job "e": pegasus profile gpus is "x" (expected a number of GPUs >= 0)');
  });
});
