import { type FileUse, fileUse, type Job as JobModel, type LinkType } from '../workflow.js';
import { File } from './file.js';
import { Annotated, copyProfiles } from './profiled.js';
import type { Transformation } from './transformation.js';

export interface OutputOptions {
  /** default true */
  stageOut?: boolean;
  /** default true */
  registerReplica?: boolean;
  optional?: boolean;
}

export interface InputOptions {
  optional?: boolean;
  bypass?: boolean;
  forPlanning?: boolean;
}

type Arg = string | number | File;

abstract class AbstractJob extends Annotated {
  id: string | undefined;
  nodeLabel: string | undefined;
  readonly args: (string | number)[] = [];
  readonly uses = new Map<string, FileUse>();
  stdin: string | undefined;
  stdout: string | undefined;
  stderr: string | undefined;

  constructor(options: { id?: string; nodeLabel?: string } = {}) {
    super();
    this.id = options.id;
    this.nodeLabel = options.nodeLabel;
  }

  /** Arguments; a File is written as its LFN. */
  addArgs(...args: Arg[]): this {
    for (const a of args) this.args.push(a instanceof File ? a.lfn : a);
    return this;
  }

  addInputs(...files: (File | string)[]): this {
    for (const f of files) this.use(f, 'input', {});
    return this;
  }
  addInputsWith(options: InputOptions, ...files: (File | string)[]): this {
    for (const f of files) this.use(f, 'input', options);
    return this;
  }
  addOutputs(files: (File | string)[], options: OutputOptions = {}): this {
    for (const f of files) this.use(f, 'output', options);
    return this;
  }
  addInouts(files: (File | string)[], options: OutputOptions = {}): this {
    for (const f of files) this.use(f, 'inout', options);
    return this;
  }
  addCheckpoint(file: File | string, options: OutputOptions = {}): this {
    return this.use(file, 'checkpoint', options);
  }

  setStdin(file: File | string): this {
    this.stdin = typeof file === 'string' ? file : file.lfn;
    return this.use(file, 'input', {});
  }
  /** Also listed as an output so that it is staged out. */
  setStdout(file: File | string, options: OutputOptions = {}): this {
    this.stdout = typeof file === 'string' ? file : file.lfn;
    return this.use(file, 'output', options);
  }
  setStderr(file: File | string, options: OutputOptions = {}): this {
    this.stderr = typeof file === 'string' ? file : file.lfn;
    return this.use(file, 'output', options);
  }

  private use(f: File | string, type: LinkType, options: OutputOptions & InputOptions): this {
    const lfn = typeof f === 'string' ? f : f.lfn;
    const prev = this.uses.get(lfn);
    if (prev && prev.type !== type) {
      throw new TypeError(`Job ${this.id ?? ''}: "${lfn}" is already used as ${prev.type} (use addInouts)`);
    }
    const u = fileUse(lfn, type);
    for (const k of ['stageOut', 'registerReplica', 'optional', 'bypass', 'forPlanning'] as const) {
      const v = options[k];
      if (v !== undefined) u[k] = v;
    }
    if (f instanceof File) {
      if (f.size !== undefined) u.size = String(f.size);
      if (f.metadata) u.metadata = { ...f.metadata };
    }
    this.uses.set(lfn, u);
    return this;
  }

  /** @internal */
  protected base(id: string) {
    const j = {
      id,
      arguments: [...this.args],
      uses: [...this.uses.values()].map((u) => ({ ...u })),
      profiles: copyProfiles(this.profiles),
    } as Omit<JobModel, 'type'>;
    if (this.stdin !== undefined) j.stdin = this.stdin;
    if (this.stdout !== undefined) j.stdout = this.stdout;
    if (this.stderr !== undefined) j.stderr = this.stderr;
    if (this.hooks) j.hooks = { shell: this.hooks.shell.map((h) => ({ ...h })) };
    if (this.metadata) j.metadata = { ...this.metadata };
    if (this.nodeLabel !== undefined) j.nodeLabel = this.nodeLabel;
    return j;
  }

  abstract toModel(id: string): JobModel;
}

/** A compute job running a transformation (given as a Transformation or by name). */
export class Job extends AbstractJob {
  readonly name: string;
  readonly namespace: string | undefined;
  readonly version: string | undefined;

  constructor(
    transformation: Transformation | string,
    options: { id?: string; nodeLabel?: string; namespace?: string; version?: string } = {},
  ) {
    super(options);
    if (typeof transformation === 'string') {
      this.name = transformation;
      this.namespace = options.namespace;
      this.version = options.version;
    } else {
      this.name = transformation.name;
      this.namespace = options.namespace ?? transformation.namespace;
      this.version = options.version ?? transformation.version;
    }
  }

  toModel(id: string): JobModel {
    const j: JobModel = { type: 'job', ...this.base(id), name: this.name };
    if (this.namespace !== undefined) j.namespace = this.namespace;
    if (this.version !== undefined) j.version = this.version;
    return j;
  }
}

/** A sub-workflow job: a Pegasus workflow planned at run time (`planned`), or an HTCondor DAG. */
export class SubWorkflow extends AbstractJob {
  readonly file: string;
  constructor(
    file: File | string,
    readonly isPlanned = true,
    options: { id?: string; nodeLabel?: string } = {},
  ) {
    super(options);
    this.file = typeof file === 'string' ? file : file.lfn;
    this.addInputsWith({ forPlanning: isPlanned }, file);
  }
  toModel(id: string): JobModel {
    return { type: this.isPlanned ? 'pegasusWorkflow' : 'condorWorkflow', ...this.base(id), file: this.file };
  }
}

export type AnyJob = Job | SubWorkflow;
