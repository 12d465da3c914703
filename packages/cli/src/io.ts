import type { ClusterOptions, RawClusterOptions } from '@pegasus-ts/cluster';
import type { KickstartOptions } from '@pegasus-ts/kickstart';

/** One mpi-cluster option as @pegasus-ts/cluster describes it (commander flag syntax). */
export interface ClusterOptionSpec {
  readonly flags: string;
  readonly description: string;
  /** Shown in the help only. */
  readonly defaultValue?: string;
  /** A flag counted each time it is given (-v, -q). */
  readonly count?: boolean;
}

/** The package functions the program calls: real ones in `processIo()`, fakes in tests. */
export interface CliDeps {
  runKickstart(options: KickstartOptions): Promise<number>;
  readonly clusterOptionHelp: readonly ClusterOptionSpec[];
  resolveClusterOptions(raw: RawClusterOptions, env: NodeJS.ProcessEnv): ClusterOptions;
  runCluster(options: ClusterOptions): Promise<number>;
}

/** Everything the program touches outside itself. */
export interface CliIo {
  readonly version: string;
  readonly env: NodeJS.ProcessEnv;
  /** Writes text (already newline-terminated) to standard output. */
  stdout(text: string): void;
  /** Writes text (already newline-terminated) to standard error. */
  stderr(text: string): void;
  readonly deps: CliDeps;
}
