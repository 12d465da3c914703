import type { IngestContext } from './ingest-context.js';

/** A job_instance row as the cluster record ingest needs it. */
export interface InstanceRow {
  job_instance_id: number;
  job_submit_seq: number;
  submit_time: number | null;
  cluster_start: number | null;
  cluster_duration: number | null;
  site: string | null;
  state: string | null;
  final: string | null;
}

/**
 * The attempt a cluster task record belongs to: the one whose runner (its own record in
 * invocations/) was running when the task started, else the last one submitted before the
 * task started (jobstate.log times are whole seconds), else the latest.
 */
export function instanceFor(
  cx: IngestContext,
  jobId: number,
  instances: InstanceRow[],
  start: number,
): InstanceRow {
  let pick: InstanceRow | undefined;
  for (const i of instances) {
    if (i.cluster_start !== null && i.cluster_duration !== null) {
      if (start >= i.cluster_start - 0.001 && start <= i.cluster_start + i.cluster_duration + 0.001) return i;
    }
  }
  for (const i of instances) {
    if (i.submit_time !== null && i.submit_time <= start + 1e-6) pick = i;
  }
  pick ??= instances[instances.length - 1];
  if (pick) return pick;
  const id = (cx.st.instance.get(jobId, 1, jobId) as { job_instance_id: number }).job_instance_id;
  const row: InstanceRow = {
    job_instance_id: id,
    job_submit_seq: 1,
    submit_time: null,
    cluster_start: null,
    cluster_duration: null,
    site: null,
    state: null,
    final: null,
  };
  instances.push(row);
  return row;
}
