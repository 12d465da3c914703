/** The braindump.yml keys (Pegasus's, plus `plan`, the executable workflow file). */
export interface Braindump {
  user: string;
  submit_hostname: string;
  root_wf_uuid: string;
  wf_uuid: string;
  dax: string;
  dax_label: string;
  dax_index: string;
  dax_version: string;
  pegasus_wf_name: string;
  timestamp: string;
  basedir: string;
  submit_dir: string;
  planner: string;
  planner_version: string;
  planner_arguments: string;
  jsd: string;
  rundir: string;
  vogroup: string;
  uses_pmc: string;
  properties: string;
  plan: string;
  output_replicas: string;
  type: string;
}

/** braindump.yml text: one `key: "value"` line per key, every value a quoted string (as Pegasus writes it). */
export function emitBraindump(b: Braindump): string {
  let s = '';
  for (const [k, v] of Object.entries(b)) s += `${k}: ${JSON.stringify(String(v))}\n`;
  return s;
}
