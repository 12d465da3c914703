import type { Statement } from 'better-sqlite3';
import type { Db } from '../database.js';

/** The workflow id of every row: one workflow per database. */
export const WF = 1;

export type IngestStatements = Record<string, Statement>;

/** The ingester's prepared statements, prepared once per database connection. */
export function prepareIngestStatements(db: Db): IngestStatements {
  return {
    getOffset: db.prepare('SELECT offset, done FROM ingest_offset WHERE source = ?'),
    setOffset: db.prepare(
      'INSERT INTO ingest_offset (source, offset, done) VALUES (?, ?, ?) ON CONFLICT (source) DO UPDATE SET offset = excluded.offset, done = excluded.done',
    ),
    jobId: db.prepare('SELECT job_id FROM job WHERE exec_job_id = ?'),
    insertJob: db.prepare(
      `INSERT INTO job (wf_id, exec_job_id, type_desc, site, clustered, max_retries, transformation,
           executable, argv, task_count, first_task_id, dag_file, multiplier_factor)
         VALUES (${WF}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    updateJobTasks: db.prepare('UPDATE job SET task_count = ?, first_task_id = ? WHERE job_id = ?'),
    insertTask: db.prepare(
      `INSERT INTO task (wf_id, job_id, task_index, abs_task_id, name, transformation, argv, type_desc)
         VALUES (${WF}, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertEdge: db.prepare(
      `INSERT INTO job_edge (wf_id, parent_exec_job_id, child_exec_job_id) VALUES (${WF}, ?, ?)`,
    ),
    insertFile: db.prepare(`INSERT INTO files (wf_id, job_id, lfn, file_type) VALUES (${WF}, ?, ?, ?)`),
    instance: db.prepare(
      `INSERT INTO job_instance (job_id, job_submit_seq, multiplier_factor)
         VALUES (?, ?, (SELECT multiplier_factor FROM job WHERE job_id = ?))
         ON CONFLICT (job_id, job_submit_seq) DO UPDATE SET job_id = excluded.job_id
         RETURNING job_instance_id`,
    ),
    insertJobstate: db.prepare(
      'INSERT INTO jobstate (job_instance_id, state, timestamp, jobstate_submit_seq) VALUES (?, ?, ?, ?)',
    ),
    updateInstance: db.prepare(
      `UPDATE job_instance SET state = ?, state_time = ?, site = coalesce(?, site),
           sched_id = coalesce(?, sched_id), submit_time = coalesce(submit_time, ?),
           execute_time = coalesce(execute_time, ?), exitcode = coalesce(?, exitcode),
           local_duration = coalesce(?, local_duration), end_time = coalesce(?, end_time),
           final = coalesce(?, final)
         WHERE job_instance_id = ?`,
    ),
    updateJobState: db.prepare(
      'UPDATE job SET last_seq = ?, state = ?, state_time = ? WHERE job_id = ? AND last_seq <= ?',
    ),
    addFailure: db.prepare('UPDATE job SET failures = failures + 1 WHERE job_id = ?'),
    resetFailures: db.prepare('UPDATE job SET failures = 0 WHERE failures > 0'),
    insertWfState: db.prepare(
      `INSERT INTO workflowstate (wf_id, state, timestamp, restart_count, status, pid)
         VALUES (${WF}, ?, ?, (SELECT count(*) FROM workflowstate WHERE state = 'WORKFLOW_STARTED') - ?, ?, ?)`,
    ),
    host: db.prepare(
      `INSERT INTO host (wf_id, site, hostname, ip) VALUES (${WF}, ?, ?, ?)
         ON CONFLICT (wf_id, site, hostname, ip) DO UPDATE SET site = excluded.site RETURNING host_id`,
    ),
    insertInvocation: db.prepare(
      `INSERT INTO invocation (wf_id, job_instance_id, task_submit_seq, task_id, start_time,
           remote_duration, remote_cpu_time, exitcode, exit_code, signal, transformation, executable,
           argv, abs_task_id, maxrss, avg_cpu, host_id, work_dir, stdout_text, stderr_text,
           record_file, record_offset)
         VALUES (${WF}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertTaskInvocation: db.prepare(
      `INSERT INTO invocation (wf_id, job_instance_id, task_submit_seq, task_id, start_time,
           remote_duration, remote_cpu_time, exitcode, exit_code, signal, transformation, maxrss,
           avg_cpu, host_id, record_offset)
         VALUES (${WF}, ?, ?, ?, ?, ?, ?, 0, ?, NULL, ?, ?, ?, ?, ?)`,
    ),
    instanceFromRecord: db.prepare(
      `UPDATE job_instance SET host_id = coalesce(host_id, ?), work_dir = coalesce(work_dir, ?),
           cluster_start = coalesce(cluster_start, ?), cluster_duration = coalesce(cluster_duration, ?),
           stdout_file = ?, stderr_file = ?, record_state = 1, record_start = ?, record_duration = ?
         WHERE job_instance_id = ?`,
    ),
    instanceHost: db.prepare(
      'UPDATE job_instance SET host_id = coalesce(host_id, ?), work_dir = coalesce(work_dir, ?) WHERE job_instance_id = ?',
    ),
    setRecordState: db.prepare('UPDATE job_instance SET record_state = ? WHERE job_instance_id = ?'),
    pendingRecords: db.prepare(
      `SELECT ji.job_instance_id AS id, ji.job_submit_seq AS seq, ji.final AS final, ji.state_time AS t,
           ji.site AS site, j.exec_job_id AS name, j.clustered AS clustered,
           j.first_task_id AS first_task_id, j.task_count AS task_count
         FROM job_instance ji JOIN job j ON j.job_id = ji.job_id
         WHERE ji.record_state = 0 AND (ji.final IS NOT NULL OR ji.end_time IS NOT NULL)`,
    ),
    clusterJobs: db.prepare(
      'SELECT job_id, site, exec_job_id, dag_file, first_task_id, task_count FROM job WHERE clustered = 1',
    ),
    instancesOf: db.prepare(
      `SELECT job_instance_id, job_submit_seq, submit_time, cluster_start, cluster_duration, site, state, final
         FROM job_instance
         WHERE job_id = ? ORDER BY job_submit_seq`,
    ),
    tasksOf: db.prepare(
      'SELECT task_id, task_index, name, abs_task_id FROM task WHERE task_id BETWEEN ? AND ?',
    ),
    meta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
    running: db.prepare(
      "SELECT state FROM workflowstate WHERE state IN ('WORKFLOW_STARTED', 'WORKFLOW_TERMINATED') ORDER BY id DESC LIMIT 1",
    ),
  };
}
