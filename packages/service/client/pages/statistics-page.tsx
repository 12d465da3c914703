import type { CountRow, Summary } from '@pegasus-ts/monitor';
import { useApi, useLive } from '../api.js';
import { WorkflowNav } from './workflow-nav.js';

/** The numbers of `pegasus-ts statistics` (the same query), as a table and as its text. */
export function StatisticsPage(props: { wf: string }) {
  const live = useLive(props.wf);
  const { data, error } = useApi<{ summary: Summary; text: string }>(
    `/workflows/${props.wf}/statistics`,
    live.version,
  );
  const row = (name: string, c: CountRow) => (
    <tr data-type={name}>
      <td>{name}</td>
      <td class="num">{c.succeeded}</td>
      <td class="num">{c.failed}</td>
      <td class="num">{c.incomplete}</td>
      <td class="num">{c.total}</td>
      <td class="num">{c.retries}</td>
      <td class="num">{c.totalRetries}</td>
    </tr>
  );
  return (
    <main>
      <WorkflowNav wf={props.wf} live={live} />
      <h1>Statistics</h1>
      {error && <p class="error">{error}</p>}
      {data && (
        <>
          <table id="summary">
            <thead>
              <tr>
                <th>Type</th>
                <th class="num">Succeeded</th>
                <th class="num">Failed</th>
                <th class="num">Incomplete</th>
                <th class="num">Total</th>
                <th class="num">Retries</th>
                <th class="num">Total+Retries</th>
              </tr>
            </thead>
            <tbody>
              {row('Tasks', data.summary.tasks)}
              {row('Jobs', data.summary.jobs)}
              {row('Sub-Workflows', data.summary.subWorkflows)}
            </tbody>
          </table>
          <h2>As pegasus-ts statistics prints it</h2>
          <pre id="statistics-text">{data.text}</pre>
        </>
      )}
    </main>
  );
}
