import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mpiLauncherMark, mpiLauncherSize } from '../src/transports/internal/mpi-env.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE = path.join(here, 'fixtures/mpi-ranks.mjs');
const ADDON = path.resolve(here, '../../../native/mpi/build/Release/mpi_transport.node');
const DIST = path.resolve(here, '../dist/transports/mpi-communicator.js');

function missing(): string | undefined {
  try {
    execFileSync('sh', ['-c', 'command -v mpirun'], { stdio: 'ignore' });
  } catch {
    return 'mpirun is not installed';
  }
  if (!existsSync(ADDON)) return 'native/mpi is not built (node native/mpi/build.mjs)';
  if (!existsSync(DIST)) return 'packages/cluster is not built (pnpm exec tsc -b)';
  return undefined;
}
const skip = missing();

/** mpirun -np N node fixtures/mpi-ranks.mjs SCENARIO; one parsed JSON line per rank, by rank. */
function ranks(np: number, scenario: string, env: Record<string, string> = {}) {
  return new Promise<{ code: number; byRank: Record<string, unknown>[]; stderr: string }>((resolve) => {
    execFile(
      'mpirun',
      [
        '--allow-run-as-root',
        '--oversubscribe',
        '--bind-to',
        'none',
        '-np',
        String(np),
        process.execPath,
        FIXTURE,
        scenario,
      ],
      {
        // process_vm_readv (OpenMPI's single copy) is often forbidden in containers (CI)
        env: { ...process.env, OMPI_MCA_btl_vader_single_copy_mechanism: 'none', ...env },
        timeout: 60_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const byRank: Record<string, unknown>[] = [];
        for (const line of stdout.split('\n')) {
          if (!line.startsWith('{')) continue;
          const o = JSON.parse(line) as { rank: number };
          byRank[o.rank] = o;
        }
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, byRank, stderr });
      },
    );
  });
}

describe('MPI launcher detection', () => {
  it('recognises OpenMPI, PMIx and PMI launchers, and nothing else', () => {
    expect(mpiLauncherMark({ OMPI_COMM_WORLD_SIZE: '3' })).toBe('OMPI_COMM_WORLD_SIZE=3');
    expect(mpiLauncherMark({ PMIX_RANK: '0' })).toBe('PMIX_RANK=0');
    expect(mpiLauncherMark({ PMI_RANK: '1', PMI_SIZE: '4' })).toBe('PMI_SIZE=4');
    expect(mpiLauncherMark({ MPI_LOCALNRANKS: '2' })).toBe('MPI_LOCALNRANKS=2');
    expect(mpiLauncherMark({ SLURM_PROCID: '0', SLURM_NTASKS: '4' })).toBeUndefined();
    expect(mpiLauncherMark({ OMPI_COMM_WORLD_SIZE: '' })).toBeUndefined();
    expect(mpiLauncherSize({ OMPI_COMM_WORLD_SIZE: '3' })).toBe(3);
    expect(mpiLauncherSize({ PMIX_RANK: '0', SLURM_NTASKS: '8' })).toBe(8);
    expect(mpiLauncherSize({ SLURM_NTASKS: '8' })).toBeUndefined();
    expect(mpiLauncherSize({ PMI_SIZE: 'x' })).toBeUndefined();
  });
});

describe.skipIf(skip !== undefined)(
  `MPI communicator under mpirun${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    it('registers workers as joined events and moves batches both ways in order, big ones too', async () => {
      const r = await ranks(3, 'exchange');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const [master, w1, w2] = r.byRank as Array<Record<string, unknown>>;
      expect(master.transport).toBe('mpi');
      expect(master.size).toBe(3);
      const joined = master.joined as Array<{ rank: number; pid: number }>;
      expect(joined.map((j) => j.rank)).toEqual([1, 2]);
      expect(master.sizeAfterJoin).toBe(3);
      // The registration is a joined event, not a message; then ready and results arrive.
      expect(master.types).toEqual({
        1: expect.arrayContaining(['ready', 'results']),
        2: expect.arrayContaining(['ready', 'results']),
      });
      for (const rank of ['1', '2']) {
        // task 7 carried a 3 MB argument, echoed back as its stdout
        expect((master.results as Record<string, unknown>)[rank]).toEqual({
          inOrder: true,
          count: 300,
          size7: 3 * 1024 * 1024,
          size8: 1,
        });
      }
      for (const w of [w1, w2]) {
        expect(w.seen).toEqual(['welcome', 'tasks', 'shutdown']);
        expect(w.broken).toBe(false);
      }
      expect(master.broken).toBe(false);
    });

    it('works with a single worker (-np 2)', async () => {
      const r = await ranks(2, 'exchange');
      expect(r.code).toBe(0);
      expect((r.byRank[0].joined as unknown[]).length).toBe(1);
      expect((r.byRank[1] as { seen: string[] }).seen).toContain('shutdown');
    });

    it('an idle rank (master or worker) uses under 5% of a core', async () => {
      const r = await ranks(3, 'idle', { IDLE_MS: '2000' });
      expect(r.code).toBe(0);
      const use = r.byRank.map((o) => o.idleCpu as number);
      expect(use).toHaveLength(3);
      for (const u of use) {
        expect(u).toBeGreaterThanOrEqual(0);
        expect(u).toBeLessThan(0.05);
      }
    });
  },
);
