import { check, type ObjSpec, type SchemaProblem, type Spec } from './schema.js';

// Hand-written mirror of the Pegasus 5.0 schemas (common.yml, wf-5.0.yml, sc-5.0.yml, tc-5.0.yml,
// rc-5.0.yml). Stricter in one way: unknown keys are reported everywhere (except `x-*`).

export const VERSION_RE = /^[0-9]+(\.[0-9]+(\.[0-9]+)?)?$/;
export const NODE_ID_RE = /^[-0-9a-zA-Z_]+$/;
export const FILENAME_SAFE_RE = /^[-0-9a-zA-Z_\u00a1-\u{10ffff}]+$/u;

const str: Spec = { t: 'str' };
const bool: Spec = { t: 'bool' };
const strnum: Spec = { t: 'strnum' };
export const versionSpec: Spec = {
  t: 'str',
  pattern: VERSION_RE,
  expect: 'a quoted version string such as "5.0"',
};
const nodeId: Spec = { t: 'str', pattern: NODE_ID_RE, expect: 'an id of letters, digits, "-" and "_"' };

export const metadataSpec: ObjSpec = {
  t: 'obj',
  name: 'metadata',
  props: {},
  keys: { pattern: /[a-zA-Z0-9._\u00a1-\u{10ffff}]/u, value: strnum, expect: 'a metadata key' },
  minProps: 1,
};

const genericProfile = (ns: string): ObjSpec => ({
  t: 'obj',
  name: `${ns} profiles`,
  props: {},
  keys: {
    pattern: /^[+.a-zA-Z0-9_-]+$/,
    value: strnum,
    expect: 'a key of letters, digits, "+", ".", "_", "-"',
  },
});

export const profilesSpec: ObjSpec = {
  t: 'obj',
  name: 'profiles',
  props: {
    env: {
      t: 'obj',
      name: 'env profiles',
      props: {},
      keys: {
        pattern: /^[_.\-a-zA-Z0-9]+$/,
        value: strnum,
        expect: 'a variable name of letters, digits, "_", ".", "-"',
      },
    },
    condor: genericProfile('condor'),
    globus: genericProfile('globus'),
    dagman: genericProfile('dagman'),
    pegasus: genericProfile('pegasus'),
    hints: genericProfile('hints'),
    selector: genericProfile('selector'),
  },
};

export const hooksSpec: ObjSpec = {
  t: 'obj',
  name: 'hooks',
  props: {
    shell: {
      t: 'arr',
      items: {
        t: 'obj',
        name: 'shell hook',
        props: {
          _on: { t: 'str', enum: ['never', 'start', 'error', 'success', 'end', 'all'] },
          cmd: str,
        },
        required: ['_on', 'cmd'],
      },
    },
  },
};

const checksumSpec: ObjSpec = { t: 'obj', name: 'checksum', props: { sha256: str } };

// --- site catalog ------------------------------------------------------------------------------
export const ARCHES = [
  'x86',
  'x86_64',
  'ppc',
  'ppc_64',
  'ppc64le',
  'ia64',
  'sparcv7',
  'sparcv9',
  'amd64',
  'aarch64',
] as const;
export const OS_TYPES = ['linux', 'sunos', 'macosx', 'aix', 'windows'] as const;
const archSpec: Spec = { t: 'str', enum: ARCHES };
const osTypeSpec: Spec = { t: 'str', enum: OS_TYPES };

const fileServerSpec: ObjSpec = {
  t: 'obj',
  name: 'file server',
  props: { url: str, operation: { t: 'str', enum: ['all', 'put', 'get'] }, profiles: profilesSpec },
  required: ['url'],
};

const directorySpec: ObjSpec = {
  t: 'obj',
  name: 'directory',
  props: {
    type: { t: 'str', enum: ['sharedScratch', 'sharedStorage', 'localScratch', 'localStorage'] },
    path: str,
    sharedFileSystem: bool,
    freeSize: str,
    totalSize: str,
    fileServers: { t: 'arr', items: fileServerSpec, min: 1 },
  },
  required: ['type', 'fileServers'],
};

const count: Spec = { t: 'num', min: 0 };
const gridSpec: ObjSpec = {
  t: 'obj',
  name: 'grid',
  props: {
    type: {
      t: 'str',
      enum: ['gt5', 'condor', 'cream', 'batch', 'nordugrid', 'unicore', 'ec2', 'deltacloud', 'sfapi'],
    },
    contact: str,
    scheduler: { t: 'str', enum: ['fork', 'pbs', 'lsf', 'condor', 'sge', 'slurm', 'flux', 'unknown'] },
    jobtype: { t: 'str', enum: ['compute', 'auxillary', 'transfer', 'register', 'cleanup'] },
    freeMem: str,
    totalMem: str,
    maxCount: str,
    maxCPUTime: str,
    runningJobs: count,
    jobsInQueue: count,
    idleNodes: count,
    totalNodes: count,
  },
  required: ['type', 'contact', 'scheduler'],
};

const siteSpec: ObjSpec = {
  t: 'obj',
  name: 'site',
  props: {
    name: str,
    arch: archSpec,
    'os.type': osTypeSpec,
    'os.release': str,
    'os.version': versionSpec,
    directories: { t: 'arr', items: directorySpec },
    grids: { t: 'arr', items: gridSpec },
    profiles: profilesSpec,
  },
  required: ['name'],
};

export const inlineSiteCatalogSpec: ObjSpec = {
  t: 'obj',
  name: 'site catalog',
  props: { pegasus: versionSpec, sites: { t: 'arr', items: siteSpec, min: 1 } },
  required: ['sites'],
};
export const siteCatalogSpec: ObjSpec = { ...inlineSiteCatalogSpec, required: ['pegasus', 'sites'] };

// --- transformation catalog ---------------------------------------------------------------------
const trSiteSpec: ObjSpec = {
  t: 'obj',
  name: 'transformation site',
  props: {
    name: str,
    arch: archSpec,
    'os.type': osTypeSpec,
    'os.release': str,
    'os.version': versionSpec,
    pfn: str,
    profiles: profilesSpec,
    metadata: metadataSpec,
    type: { t: 'str', enum: ['stageable', 'installed'] },
    bypass: bool,
    container: str,
  },
  required: ['name', 'type', 'pfn'],
};

const transformationSpec: ObjSpec = {
  t: 'obj',
  name: 'transformation',
  props: {
    metadata: metadataSpec,
    namespace: str,
    name: str,
    version: str,
    hooks: hooksSpec,
    profiles: profilesSpec,
    requires: { t: 'arr', items: str },
    checksum: checksumSpec,
    sites: { t: 'arr', items: trSiteSpec, min: 1 },
  },
  required: ['name', 'sites'],
};

const containerSpec: ObjSpec = {
  t: 'obj',
  name: 'container',
  props: {
    name: str,
    type: { t: 'str', enum: ['docker', 'podman', 'singularity', 'apptainer', 'shifter'] },
    image: str,
    'image.site': str,
    mounts: { t: 'arr', items: str },
    bypass: bool,
    checksum: checksumSpec,
    metadata: metadataSpec,
    profiles: profilesSpec,
  },
  required: ['name', 'type', 'image'],
};

export const inlineTransformationCatalogSpec: ObjSpec = {
  t: 'obj',
  name: 'transformation catalog',
  props: {
    pegasus: versionSpec,
    transformations: { t: 'arr', items: transformationSpec, min: 1 },
    containers: { t: 'arr', items: containerSpec },
  },
  required: ['transformations'],
};
export const transformationCatalogSpec: ObjSpec = {
  ...inlineTransformationCatalogSpec,
  required: ['pegasus', 'transformations'],
};

// --- replica catalog ---------------------------------------------------------------------------
const replicaSpec: ObjSpec = {
  t: 'obj',
  name: 'replica',
  props: {
    lfn: str,
    pfns: {
      t: 'arr',
      items: { t: 'obj', name: 'pfn', props: { site: str, pfn: str }, required: ['site', 'pfn'] },
    },
    regex: bool,
    checksum: checksumSpec,
    metadata: metadataSpec,
  },
  required: ['lfn', 'pfns'],
};

export const inlineReplicaCatalogSpec: ObjSpec = {
  t: 'obj',
  name: 'replica catalog',
  props: { pegasus: versionSpec, replicas: { t: 'arr', items: replicaSpec } },
  required: ['replicas'],
};
export const replicaCatalogSpec: ObjSpec = { ...inlineReplicaCatalogSpec, required: ['pegasus', 'replicas'] };

// --- workflow ----------------------------------------------------------------------------------
const useSpec: ObjSpec = {
  t: 'obj',
  name: 'use',
  props: {
    lfn: str,
    metadata: metadataSpec,
    type: { t: 'str', enum: ['none', 'input', 'output', 'inout', 'checkpoint'] },
    stageOut: bool,
    registerReplica: bool,
    optional: bool,
    size: str,
    namespace: str,
    version: versionSpec,
    executable: bool,
    bypass: bool,
    forPlanning: bool,
  },
  required: ['lfn', 'type'],
};

const abstractJobProps: Record<string, Spec> = {
  id: nodeId,
  nodeLabel: str,
  metadata: metadataSpec,
  arguments: { t: 'arr', items: strnum },
  stdin: str,
  stdout: str,
  stderr: str,
  uses: { t: 'arr', items: useSpec },
  profiles: profilesSpec,
  hooks: hooksSpec,
};

const jobSpec = (type: string, extra: Record<string, Spec>, required: string[]): ObjSpec => ({
  t: 'obj',
  name: type === 'job' ? 'job' : `${type} job`,
  props: { type: str, ...abstractJobProps, ...extra },
  required: ['id', 'arguments', 'uses', ...required],
});

export const jobsSpec: Spec = {
  t: 'union',
  name: 'job',
  key: 'type',
  missing: 'job',
  variants: {
    job: jobSpec('job', { name: str, namespace: str, version: versionSpec }, ['name']),
    pegasusWorkflow: jobSpec('pegasusWorkflow', { file: str }, ['file']),
    condorWorkflow: jobSpec('condorWorkflow', { file: str }, ['file']),
  },
};

export const dependencySpec: ObjSpec = {
  t: 'obj',
  name: 'dependency',
  props: { id: nodeId, children: { t: 'arr', items: nodeId, min: 1 } },
  required: ['id'],
};

const siteCatalogRefOrInline: Spec = {
  t: 'custom',
  check(v, path, out) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && '$ref' in v) {
      const ref = (v as Record<string, unknown>).$ref;
      if (typeof ref !== 'string')
        out.push({ path: [...path, '$ref'], message: '"$ref" of siteCatalog (expected an IRI string)' });
      for (const k of Object.keys(v)) {
        if (k !== '$ref' && !k.startsWith('x-')) {
          out.push({
            path: [...path, k],
            onKey: true,
            message: `unknown key "${k}" in siteCatalog reference (expected only $ref)`,
          });
        }
      }
      return;
    }
    checkInline(v, path, out);
  },
};
function checkInline(v: unknown, path: readonly (string | number)[], out: SchemaProblem[]): void {
  check(inlineSiteCatalogSpec, v, path, out, 'workflow');
}

export const workflowSpec: ObjSpec = {
  t: 'obj',
  name: 'workflow',
  props: {
    pegasus: versionSpec,
    name: {
      t: 'str',
      pattern: FILENAME_SAFE_RE,
      expect: 'a name of letters, digits, "-" and "_" (no "/" or ".")',
    },
    version: versionSpec,
    siteCatalog: siteCatalogRefOrInline,
    replicaCatalog: inlineReplicaCatalogSpec,
    transformationCatalog: inlineTransformationCatalogSpec,
    jobs: { t: 'arr', items: jobsSpec, min: 1 },
    jobDependencies: { t: 'arr', items: dependencySpec },
    profiles: profilesSpec,
    hooks: hooksSpec,
    metadata: metadataSpec,
  },
  required: ['pegasus', 'name', 'jobs'],
};

/** The workflow schema without its per-item job and dependency checks (done as items are read). */
export const workflowShellSpec: ObjSpec = {
  ...workflowSpec,
  props: {
    ...workflowSpec.props,
    jobs: { t: 'arr', items: { t: 'any' }, min: 1 },
    jobDependencies: { t: 'arr', items: { t: 'any' } },
  },
};
