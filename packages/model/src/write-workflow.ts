import {
  addExtensions,
  hooksDoc,
  metadataDoc,
  profilesDoc,
  set,
  toYamlText,
  writeText,
} from './internal/write.js';
import { type AbstractWorkflow, type FileUse, isOutputUse, type Job } from './workflow.js';
import { replicaCatalogToObject } from './write-replica-catalog.js';
import { siteCatalogToObject } from './write-site-catalog.js';
import { transformationCatalogToObject } from './write-transformation-catalog.js';

/** The plain document of a workflow (what workflowToYaml serializes). */
export function workflowToObject(wf: AbstractWorkflow): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const ext = wf.extensions ?? {};
  if ('x-pegasus' in ext) o['x-pegasus'] = ext['x-pegasus'];
  o.pegasus = wf.pegasus || '5.0';
  o.name = wf.name;
  set(o, 'version', wf.version);
  set(o, 'hooks', hooksDoc(wf.hooks));
  set(o, 'profiles', profilesDoc(wf.profiles));
  set(o, 'metadata', metadataDoc(wf.metadata));
  if (wf.siteCatalogRef !== undefined) o.siteCatalog = { $ref: wf.siteCatalogRef };
  else if (wf.siteCatalog) o.siteCatalog = siteCatalogToObject(wf.siteCatalog, { inline: true });
  if (wf.replicaCatalog) o.replicaCatalog = replicaCatalogToObject(wf.replicaCatalog, { inline: true });
  if (wf.transformationCatalog) {
    o.transformationCatalog = transformationCatalogToObject(wf.transformationCatalog, { inline: true });
  }
  o.jobs = wf.jobs.map(jobDoc);
  const deps = wf.dependencies.filter((d) => d.children.length > 0);
  if (deps.length > 0) o.jobDependencies = deps.map((d) => ({ id: d.id, children: [...d.children] }));
  return addExtensions(o, ext);
}

export function workflowToYaml(wf: AbstractWorkflow): string {
  return toYamlText(workflowToObject(wf));
}

export async function writeWorkflow(wf: AbstractWorkflow, path: string): Promise<void> {
  await writeText(path, workflowToYaml(wf));
}

function jobDoc(j: Job): Record<string, unknown> {
  const o: Record<string, unknown> = { type: j.type, id: j.id };
  if (j.type === 'job') {
    set(o, 'namespace', j.namespace);
    o.name = j.name;
    set(o, 'version', j.version);
  } else {
    o.file = j.file;
  }
  set(o, 'nodeLabel', j.nodeLabel);
  o.arguments = [...j.arguments];
  set(o, 'stdin', j.stdin);
  set(o, 'stdout', j.stdout);
  set(o, 'stderr', j.stderr);
  o.uses = j.uses.map(useDoc);
  set(o, 'profiles', profilesDoc(j.profiles));
  set(o, 'hooks', hooksDoc(j.hooks));
  set(o, 'metadata', metadataDoc(j.metadata));
  return addExtensions(o, j.extensions);
}

function useDoc(u: FileUse): Record<string, unknown> {
  const o: Record<string, unknown> = { lfn: u.lfn, type: u.type };
  const out = isOutputUse(u);
  if (out || !u.stageOut) o.stageOut = u.stageOut;
  if (out || !u.registerReplica) o.registerReplica = u.registerReplica;
  if (u.optional) o.optional = true;
  if (u.bypass) o.bypass = true;
  if (u.forPlanning) o.forPlanning = true;
  set(o, 'size', u.size);
  set(o, 'metadata', metadataDoc(u.metadata));
  set(o, 'namespace', u.namespace);
  set(o, 'version', u.version);
  set(o, 'executable', u.executable);
  return o;
}
