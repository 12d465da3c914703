import type { InvocationRow, JobInstanceDetail, JobInstanceRow, Page, TaskRow } from '@pegasus-ts/monitor';
import { useState } from 'preact/hooks';
import { useApi, useLive } from '../api.js';
import { duration, time } from '../format.js';
import { WorkflowNav } from './workflow-nav.js';
import { Pager } from './workflow-page.js';

function command(r: InvocationRow): string {
  let args: string[] = [];
  try {
    args = r.argv ? (JSON.parse(r.argv) as string[]) : [];
  } catch {
    args = r.argv ? [r.argv] : [];
  }
  return [r.executable ?? '', ...args].join(' ');
}

const TASK_PAGE = 50;

/** One job attempt: state history, kickstart records, output tails, failed tasks of a clustered job. */
export function JobInstancePage(props: { wf: string; ji: string }) {
  const live = useLive(props.wf);
  const { data: d, error } = useApi<JobInstanceDetail>(
    `/workflows/${props.wf}/job-instances/${props.ji}`,
    live.version,
  );
  const tries = useApi<Page<JobInstanceRow>>(
    d ? `/workflows/${props.wf}/jobs/${d.jobId}/instances` : null,
    live.version,
  );
  const [taskStart, setTaskStart] = useState(0);
  const tasks = useApi<Page<TaskRow>>(
    d
      ? `/workflows/${props.wf}/jobs/${d.jobId}/tasks?start-index=${taskStart}&max-results=${TASK_PAGE}`
      : null,
  );
  const failedIds = new Set(d?.failedTasks.map((t) => t.taskId));
  return (
    <main>
      <WorkflowNav wf={props.wf} live={live} />
      {error && <p class="error">{error}</p>}
      {d && (
        <>
          <h1>
            {d.jobName} <span class="muted">try {d.try}</span>{' '}
            <span class={d.final === 'failure' ? 'bad' : d.final === 'success' ? 'ok' : ''}>
              {d.final ?? d.state}
            </span>
          </h1>
          <dl class="facts">
            <dt>Site / host</dt>
            <dd>
              {d.site ?? '-'} / {d.hostname ?? '-'}
            </dd>
            <dt>Exit code (raw status)</dt>
            <dd id="exitcode">{d.exitcode ?? '-'}</dd>
            <dt>Submitted / ended</dt>
            <dd>
              {time(d.submitTime)} / {time(d.endTime)}
            </dd>
            <dt>Duration</dt>
            <dd>{duration(d.duration)}</dd>
            <dt>Work directory</dt>
            <dd>{d.workDir ?? '-'}</dd>
          </dl>
          {tries.data && tries.data.total > 1 && (
            <p>
              Attempts:{' '}
              {tries.data.rows.map((t) => (
                <>
                  <a href={`/workflows/${props.wf}/job-instances/${t.jobInstanceId}`}>
                    {t.try} ({t.final ?? t.state})
                  </a>{' '}
                </>
              ))}
            </p>
          )}
          <h2>State history</h2>
          <table id="states">
            <thead>
              <tr>
                <th>State</th>
                <th>Time</th>
                <th class="num">Since previous</th>
              </tr>
            </thead>
            <tbody>
              {d.states.map((s) => (
                <tr>
                  <td>{s.state}</td>
                  <td>{time(s.timestamp)}</td>
                  <td class="num">{s.sincePrevious === null ? '' : duration(s.sincePrevious)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Standard error (last lines)</h2>
          <pre id="stderr">{d.stderrTail ?? '(no file)'}</pre>
          <h2>Standard output (last lines)</h2>
          <pre id="stdout">{d.stdoutTail ?? '(no file)'}</pre>
          {d.failedTaskCount > 0 && (
            <>
              <h2 class="bad">Failed tasks ({d.failedTaskCount})</h2>
              <table id="failed-tasks">
                <thead>
                  <tr>
                    <th>Task</th>
                    <th>Transformation</th>
                    <th>Host</th>
                    <th class="num">Exit</th>
                    <th>Command</th>
                  </tr>
                </thead>
                <tbody>
                  {d.failedTasks.map((t) => (
                    <tr>
                      <td>{t.absTaskId ?? t.taskId}</td>
                      <td>{t.transformation ?? '-'}</td>
                      <td>{t.hostname ?? '-'}</td>
                      <td class="num bad">{t.exitCode ?? t.exitcode}</td>
                      <td>
                        <code>{command(t)}</code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
          {tasks.data && tasks.data.total > 0 && (
            <>
              <h2>
                Tasks of the clustered job ({tasks.data.total}, {d.failedTaskCount} failed in this attempt)
              </h2>
              <table id="tasks">
                <thead>
                  <tr>
                    <th class="num">#</th>
                    <th>Task</th>
                    <th>Transformation</th>
                    <th>In this attempt</th>
                  </tr>
                </thead>
                <tbody>
                  {tasks.data.rows.map((t) => (
                    <tr>
                      <td class="num">{t.index}</td>
                      <td>{t.absTaskId ?? t.name ?? t.taskId}</td>
                      <td>{t.transformation ?? '-'}</td>
                      <td class={failedIds.has(t.taskId) ? 'bad' : ''}>
                        {failedIds.has(t.taskId) ? 'failed' : ''}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager
                total={tasks.data.total}
                start={taskStart}
                size={TASK_PAGE}
                onPage={setTaskStart}
                what="tasks"
              />
            </>
          )}
          <h2>Kickstart records ({d.invocations.length + d.moreInvocations})</h2>
          <table id="invocations">
            <thead>
              <tr>
                <th class="num">#</th>
                <th>Task</th>
                <th>Transformation</th>
                <th>Host</th>
                <th>Start</th>
                <th class="num">Duration</th>
                <th class="num">Exit</th>
                <th>Output</th>
              </tr>
            </thead>
            <tbody>
              {d.invocations.map((r) => (
                <tr>
                  <td class="num">{r.taskSubmitSeq}</td>
                  <td>{r.absTaskId ?? '-'}</td>
                  <td>{r.transformation ?? '-'}</td>
                  <td>{r.hostname ?? '-'}</td>
                  <td>{time(r.startTime)}</td>
                  <td class="num">{duration(r.duration)}</td>
                  <td class={`num ${r.exitcode === 0 ? '' : 'bad'}`}>{r.exitCode ?? r.exitcode ?? '-'}</td>
                  <td>
                    {r.stderr ? <pre class="stderr-text">{r.stderr}</pre> : null}
                    {r.stdout ? <pre>{r.stdout}</pre> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {d.moreInvocations > 0 && (
            <p class="muted">
              and {d.moreInvocations} more (
              <code>
                /api/v1/workflows/{props.wf}/job-instances/{props.ji}/invocations
              </code>
              )
            </p>
          )}
        </>
      )}
    </main>
  );
}
