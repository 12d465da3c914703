import type { Metadata } from '../common.js';

/** A logical file. In job arguments it is written as its LFN. */
export class File {
  metadata: Metadata | undefined;
  constructor(
    readonly lfn: string,
    readonly size?: number | string,
  ) {
    if (lfn === '') throw new TypeError('File: the lfn must not be empty');
  }
  addMetadata(entries: Metadata): this {
    this.metadata = { ...this.metadata, ...entries };
    return this;
  }
  toString(): string {
    return this.lfn;
  }
}
