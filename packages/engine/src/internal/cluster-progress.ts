/**
 * How many of a cluster .dag's tasks its rescue log marks DONE, and how many tasks there are,
 * read with the cluster runner's own parsers (loaded on use). Used when a batch system no longer
 * knows a finished job: a complete rescue log means the job did its work.
 */
export async function clusterProgress(dagFile: string): Promise<{ tasks: number; done: number }> {
  const { loadDag, readRescue } = await import('@pegasus-ts/cluster');
  const dag = await loadDag(dagFile, { defaultTries: 1 });
  const done = await readRescue(`${dagFile}.rescue`, dag);
  let n = 0;
  for (let i = 0; i < done.length; i++) if (done[i]) n++;
  return { tasks: dag.size, done: n };
}
