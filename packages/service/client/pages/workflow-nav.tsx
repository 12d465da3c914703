/** The links between a workflow's pages. */
export function WorkflowNav(props: { wf: string; live?: { connected: boolean; state?: string } }) {
  const base = `/workflows/${props.wf}`;
  return (
    <nav class="nav">
      <a class="tab" href={base}>
        Workflow
      </a>
      <a class="tab" href={`${base}/charts`}>
        Charts
      </a>
      <a class="tab" href={`${base}/gantt`}>
        Gantt chart
      </a>
      <a class="tab" href={`${base}/statistics`}>
        Statistics
      </a>
      <a class="tab" href={`${base}/files/`}>
        Files
      </a>
      {props.live && (
        <span class="live" data-live={props.live.connected ? 'on' : 'off'}>
          {props.live.connected ? `live (${props.live.state ?? ''})` : 'not live'}
        </span>
      )}
    </nav>
  );
}
