import type { JobRow, Page } from '@pegasus-ts/monitor';
import { useState } from 'preact/hooks';
import type { WorkflowSummary } from '../../src/workflow-store.js';
import { useApi, useLive } from '../api.js';
import { duration, time } from '../format.js';
import { WorkflowNav } from './workflow-nav.js';

const TABS = ['failed', 'running', 'successful', 'failing'] as const;
const PAGE = 50;

/** A workflow: its facts, progress, and its jobs by tab (live while it runs). */
export function WorkflowPage(props: { wf: string }) {
  const live = useLive(props.wf);
  const { data: w, error } = useApi<WorkflowSummary>(`/workflows/${props.wf}`, live.version);
  const [tab, setTab] = useState<(typeof TABS)[number]>('failed');
  const [start, setStart] = useState(0);
  const jobs = useApi<Page<JobRow>>(
    `/workflows/${props.wf}/jobs?filter=${tab}&start-index=${start}&max-results=${PAGE}`,
    live.version,
  );
  const p = w?.progress;
  return (
    <main>
      <WorkflowNav wf={props.wf} live={live} />
      {error && <p class="error">{error}</p>}
      {w && p && (
        <>
          <h1>
            {w.label} <span class={`state-${w.state}`}>{w.state}</span>
          </h1>
          <dl class="facts">
            <dt>Label</dt>
            <dd id="label">{w.label}</dd>
            <dt>Progress</dt>
            <dd id="progress">
              <span class="progress" aria-hidden="true">
                <span
                  style={{ width: `${(100 * p.succeeded) / Math.max(1, p.total)}%`, background: '#2c8a3c' }}
                />
                <span
                  style={{ width: `${(100 * p.failed) / Math.max(1, p.total)}%`, background: '#c62828' }}
                />
              </span>
              {p.percent_done.toFixed(1)}% ({p.succeeded} succeeded, {p.failed} failed, {p.total} jobs)
            </dd>
            <dt>Submit host</dt>
            <dd>{w.submitHost}</dd>
            <dt>User</dt>
            <dd>{w.user ?? '-'}</dd>
            <dt>Submit directory</dt>
            <dd>{w.submitDir}</dd>
            <dt>Workflow wall time</dt>
            <dd id="wall-time">{duration(w.wallTime)}</dd>
            <dt>Cumulative job wall time</dt>
            <dd id="cumulative-wall-time">{duration(w.cumulativeWallTime)}</dd>
            <dt>UUID</dt>
            <dd class="muted">{w.wfUuid}</dd>
          </dl>
          {w.subWorkflows.length > 0 && (
            <>
              <h2>Sub-workflows</h2>
              <ul>
                {w.subWorkflows.map((s) => (
                  <li>
                    {s.label} <span class="muted">{s.submitDir}</span>
                  </li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
      <div class="tabs" role="tablist">
        {TABS.map((t) => (
          <button
            type="button"
            role="tab"
            class="tab"
            aria-selected={t === tab}
            onClick={() => {
              setTab(t);
              setStart(0);
            }}
          >
            {t[0].toUpperCase() + t.slice(1)}
          </button>
        ))}
      </div>
      {jobs.error && <p class="error">{jobs.error}</p>}
      {jobs.data && (
        <>
          <table id="jobs">
            <thead>
              <tr>
                <th>Job</th>
                <th>Type</th>
                <th>Transformation</th>
                <th>Site</th>
                <th>State</th>
                <th>Since</th>
                <th class="num">Tries</th>
                <th class="num">Failures</th>
              </tr>
            </thead>
            <tbody>
              {jobs.data.rows.map((j) => (
                <tr>
                  <td>
                    {j.lastInstanceId ? (
                      <a href={`/workflows/${props.wf}/job-instances/${j.lastInstanceId}`}>{j.name}</a>
                    ) : (
                      j.name
                    )}
                  </td>
                  <td>{j.type}</td>
                  <td>{j.transformation ?? '-'}</td>
                  <td>{j.site ?? '-'}</td>
                  <td>{j.state ?? 'not submitted'}</td>
                  <td>{time(j.stateTime)}</td>
                  <td class="num">{j.tries}</td>
                  <td class="num">{j.failures}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager total={jobs.data.total} start={start} size={PAGE} onPage={setStart} what={`${tab} jobs`} />
        </>
      )}
    </main>
  );
}

/** Previous/next buttons and `a-b of n`. */
export function Pager(props: {
  total: number;
  start: number;
  size: number;
  onPage: (s: number) => void;
  what: string;
}) {
  const { total, start, size } = props;
  if (total === 0) return <p class="muted">No {props.what}.</p>;
  return (
    <div class="pager">
      <button type="button" disabled={start === 0} onClick={() => props.onPage(Math.max(0, start - size))}>
        Previous
      </button>
      <span>
        {start + 1}-{Math.min(total, start + size)} of {total} {props.what}
      </span>
      <button type="button" disabled={start + size >= total} onClick={() => props.onPage(start + size)}>
        Next
      </button>
    </div>
  );
}
