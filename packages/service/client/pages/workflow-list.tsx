import { useState } from 'preact/hooks';
import type { WorkflowListRow } from '../../src/workflow-store.js';
import { useApi } from '../api.js';
import { time } from '../format.js';

interface ListAnswer {
  counts: { total: number; running: number; successful: number; failed: number };
  total: number;
  rows: WorkflowListRow[];
}

const FILTERS = ['day', 'week', 'month', 'all'] as const;

/** Every registered workflow, with counts per state and a time filter. */
export function WorkflowList() {
  const [since, setSince] = useState<(typeof FILTERS)[number]>('all');
  const { data, error } = useApi<ListAnswer>(`/workflows?since=${since}&max-results=1000`);
  return (
    <main>
      <h1>Workflows</h1>
      <fieldset class="filters" aria-label="time filter">
        Submitted in the last:
        {FILTERS.map((f) => (
          <button type="button" aria-pressed={f === since} onClick={() => setSince(f)}>
            {f}
          </button>
        ))}
      </fieldset>
      {error && <p class="error">{error}</p>}
      {data && (
        <>
          <div class="counts">
            <div class="count" data-count="running">
              <b>{data.counts.running}</b>Running
            </div>
            <div class="count" data-count="successful">
              <b class="ok">{data.counts.successful}</b>Successful
            </div>
            <div class="count" data-count="failed">
              <b class="bad">{data.counts.failed}</b>Failed
            </div>
            <div class="count" data-count="total">
              <b>{data.counts.total}</b>Total
            </div>
          </div>
          <table id="workflows">
            <thead>
              <tr>
                <th>Label</th>
                <th>Submit host</th>
                <th>Submit directory</th>
                <th>State</th>
                <th>Submitted on</th>
              </tr>
            </thead>
            <tbody>
              {data.rows.map((w) => (
                <tr>
                  <td>
                    <a href={`/workflows/${w.id}`}>{w.label || `workflow ${w.id}`}</a>
                  </td>
                  <td>{w.submitHost}</td>
                  <td>{w.submitDir}</td>
                  <td class={`state-${w.state}`} title={w.error}>
                    {w.state}
                  </td>
                  <td>{time(w.submittedOn)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {data.rows.length === 0 && <p class="muted">No workflow in this period.</p>}
        </>
      )}
    </main>
  );
}
