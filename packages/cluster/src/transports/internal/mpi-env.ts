/**
 * Was this process started by an MPI launcher? Each launcher leaves its mark in the
 * environment of the ranks it starts: OpenMPI's mpirun/mpiexec `OMPI_COMM_WORLD_SIZE`, PMIx
 * launchers (srun --mpi=pmix, prterun) `PMIX_RANK`, MPICH's Hydra and srun --mpi=pmi2
 * `PMI_RANK`/`PMI_SIZE`, Hydra also `MPI_LOCALNRANKS`.
 */
const MARKS = ['OMPI_COMM_WORLD_SIZE', 'PMIX_RANK', 'PMI_SIZE', 'PMI_RANK', 'MPI_LOCALNRANKS'] as const;

/** The variable that shows an MPI launcher started this process, or undefined. */
export function mpiLauncherMark(env: NodeJS.ProcessEnv): string | undefined {
  for (const name of MARKS) {
    const v = env[name];
    if (v !== undefined && v !== '') return `${name}=${v}`;
  }
  return undefined;
}

/** Ranks in the job, as the launcher tells them (undefined when it does not say). */
export function mpiLauncherSize(env: NodeJS.ProcessEnv): number | undefined {
  const v =
    env.OMPI_COMM_WORLD_SIZE ?? env.PMI_SIZE ?? (env.PMIX_RANK !== undefined ? env.SLURM_NTASKS : undefined);
  const n = v === undefined ? Number.NaN : Number(v);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * This process's rank as the launcher tells it before MPI_Init (undefined when it does not
 * say): only a hint, to load what the rank will need while MPI initialises; MPI's own rank
 * decides.
 */
export function mpiLauncherRank(env: NodeJS.ProcessEnv): number | undefined {
  const v = env.OMPI_COMM_WORLD_RANK ?? env.PMIX_RANK ?? env.PMI_RANK;
  const n = v === undefined ? Number.NaN : Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}
