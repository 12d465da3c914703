import type { CliIo, ClusterOptionSpec } from '../src/io.js';

/** A CliIo that records output and the calls made to the package functions. */
export interface FakeIo extends CliIo {
  out: string;
  err: string;
  kickstartCalls: unknown[];
  clusterRaw: unknown[];
  clusterCalls: unknown[];
}

export const FAKE_CLUSTER_OPTIONS: readonly ClusterOptionSpec[] = [
  { flags: '-o, --stdout <path>', description: 'merged task stdout', defaultValue: 'stdout' },
  { flags: '-r, --rescue <path>', description: 'rescue log path' },
  { flags: '--no-resource-log', description: 'do not write DAGFILE.resource' },
  { flags: '--workers <n>', description: 'number of workers' },
  { flags: '-v, --verbose', description: 'more log output (repeatable)', count: true },
  { flags: '-q, --quiet', description: 'less log output (repeatable)', count: true },
];

export interface FakeBehaviour {
  kickstart?: (options: unknown) => Promise<number>;
  resolve?: (raw: unknown) => unknown;
  cluster?: (options: unknown) => Promise<number>;
  env?: NodeJS.ProcessEnv;
}

export function fakeIo(behaviour: FakeBehaviour = {}): FakeIo {
  const io: FakeIo = {
    version: '9.8.7',
    env: behaviour.env ?? {},
    out: '',
    err: '',
    kickstartCalls: [],
    clusterRaw: [],
    clusterCalls: [],
    stdout: (text) => {
      io.out += text;
    },
    stderr: (text) => {
      io.err += text;
    },
    deps: {
      runKickstart: async (options) => {
        io.kickstartCalls.push(options);
        return behaviour.kickstart ? behaviour.kickstart(options) : 0;
      },
      clusterOptionHelp: FAKE_CLUSTER_OPTIONS,
      resolveClusterOptions: (raw) => {
        io.clusterRaw.push(raw);
        return (behaviour.resolve ? behaviour.resolve(raw) : { resolved: raw }) as never;
      },
      runCluster: async (options) => {
        io.clusterCalls.push(options);
        return behaviour.cluster ? behaviour.cluster(options) : 0;
      },
    },
  };
  return io;
}
