import type { ExecJob, ExecutableWorkflow, SourceUrl } from '../executable-workflow.js';
import { yamlFlow, yamlString } from '../internal/text-sink.js';

export interface PlanHeader {
  label: string;
  wfUuid: string;
  submitDir: string;
  relativeDir: string;
  workflowFile: string;
  timestamp: string;
}

/** The plan.yml format version. */
export const PLAN_FORMAT = '1.0';

function profilesText(j: ExecJob): string | undefined {
  let any = false;
  for (const _ in j.profiles) {
    any = true;
    break;
  }
  return any ? yamlFlow(j.profiles) : undefined;
}

/** One transfer source: `{site, url}` plus `checksum: {sha256}` when the replica catalog has one. */
function sourceText(src: SourceUrl): string {
  let s = `{site: ${yamlString(src.site)}, url: ${yamlString(src.url)}`;
  if (src.checksum) s += `, checksum: ${yamlFlow(src.checksum)}`;
  return `${s}}`;
}

/** Writes one job as a YAML sequence item (flow style for lists: compact and quick to parse). */
function jobText(j: ExecJob, priority: number): string {
  let s = `  - name: ${yamlString(j.name)}\n    kind: ${j.kind}\n    site: ${yamlString(j.site)}\n`;
  s += `    transformation: ${yamlString(j.transformation)}\n    command: ${yamlFlow(j.argv)}\n`;
  if (j.abstractId !== undefined) s += `    id: ${yamlString(j.abstractId)}\n`;
  if (j.stagingSite !== undefined) s += `    stagingSite: ${yamlString(j.stagingSite)}\n`;
  if (j.dataConfiguration !== undefined) s += `    dataConfiguration: ${j.dataConfiguration}\n`;
  if (j.directory !== undefined) s += `    directory: ${yamlString(j.directory)}\n`;
  s += `    retries: ${j.retries}\n    priority: ${priority}\n`;
  if (j.inputs.length) s += `    inputs: ${yamlFlow(j.inputs)}\n`;
  if (j.outputs.length) s += `    outputs: ${yamlFlow(j.outputs)}\n`;
  if (j.stdin !== undefined) s += `    stdin: ${yamlString(j.stdin)}\n`;
  if (j.stdout !== undefined) s += `    stdout: ${yamlString(j.stdout)}\n`;
  if (j.stderr !== undefined) s += `    stderr: ${yamlString(j.stderr)}\n`;
  const p = profilesText(j);
  if (p !== undefined) s += `    profiles: ${p}\n`;
  if (j.transfers) {
    s += '    transfers:\n';
    for (const t of j.transfers) {
      s += `      - {lfn: ${yamlString(t.lfn)}, linkage: ${t.linkage}, sources: [${t.sources.map(sourceText).join(', ')}], dest: ${yamlFlow(t.dest)}}\n`;
    }
  }
  if (j.registrations) s += `    registrations: ${yamlFlow(j.registrations)}\n`;
  if (j.targets) s += `    targets: ${yamlFlow(j.targets)}\n    recursive: ${j.recursive ?? false}\n`;
  if (j.tasks) {
    s += `    clustering: ${j.clustering}\n    dag: ${yamlString(`clusters/${j.name}.dag`)}\n`;
    s += `    tasks: ${yamlFlow(j.tasks.map((t) => t.abstractId ?? t.name))}\n`;
  }
  return s;
}

/**
 * Writes plan.yml (see the README): a header, `jobs:` (one mapping per job) and `edges:`
 * (`[parent, child]` pairs), streamed through `write`. `sbatch` names the jobs with a script.
 */
export function emitPlanYml(
  wf: ExecutableWorkflow,
  header: PlanHeader,
  priorities: Int32Array,
  sbatch: ReadonlySet<string>,
  write: (s: string) => void,
): void {
  write(`# PEGASUS-TS EXECUTABLE WORKFLOW\nplan: ${yamlString(PLAN_FORMAT)}\n`);
  write(`label: ${yamlString(header.label)}\nwf_uuid: ${yamlString(header.wfUuid)}\n`);
  write(`workflow: ${yamlString(header.workflowFile)}\nsubmitDir: ${yamlString(header.submitDir)}\n`);
  write(`relativeDir: ${yamlString(header.relativeDir)}\ntimestamp: ${yamlString(header.timestamp)}\n`);
  write(`jobCount: ${wf.jobs.length}\nedgeCount: ${wf.edgeFrom.length}\n`);
  write(wf.jobs.length ? 'jobs:\n' : 'jobs: []\n');
  for (let i = 0; i < wf.jobs.length; i++) {
    const j = wf.jobs[i];
    let s = jobText(j, priorities[i]);
    if (sbatch.has(j.name)) s += `    sbatch: ${yamlString(`clusters/${j.name}.sbatch`)}\n`;
    write(s);
  }
  write(wf.edgeFrom.length ? 'edges:\n' : 'edges: []\n');
  for (let k = 0; k < wf.edgeFrom.length; k++) {
    write(`  - [${yamlString(wf.jobs[wf.edgeFrom[k]].name)}, ${yamlString(wf.jobs[wf.edgeTo[k]].name)}]\n`);
  }
}
