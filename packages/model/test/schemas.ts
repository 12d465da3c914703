// Test helper: the real Pegasus 5.0 schemas (anchors/00-schemas), compiled with ajv.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';

export const ANCHORS = join(import.meta.dirname, 'anchors');
const BASE = 'https://pegasus.isi.edu/schema/';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function build(): Record<'wf' | 'sc' | 'tc' | 'rc', ValidateFunction> {
  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
  addFormats(ajv);
  ajv.addFormat('iri', true);
  for (const f of ['common.yml', 'wf-5.0.yml', 'sc-5.0.yml', 'tc-5.0.yml', 'rc-5.0.yml']) {
    const schema = parse(readFileSync(join(ANCHORS, '00-schemas', f), 'utf8'));
    schema.$id = BASE + f;
    delete schema.$schema;
    ajv.addSchema(schema);
  }
  const get = (f: string): ValidateFunction => {
    const v = ajv.getSchema(BASE + f);
    if (!v) throw new Error(`schema ${f} not compiled`);
    return v;
  };
  return { wf: get('wf-5.0.yml'), sc: get('sc-5.0.yml'), tc: get('tc-5.0.yml'), rc: get('rc-5.0.yml') };
}

let compiled: ReturnType<typeof build> | undefined;

/** Validates YAML text (as written by the model) against a schema; returns ajv's errors, [] when valid. */
export function schemaErrors(kind: 'wf' | 'sc' | 'tc' | 'rc', yamlText: string): string[] {
  compiled ??= build();
  const v = compiled[kind];
  if (v(parse(yamlText))) return [];
  return (v.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}
