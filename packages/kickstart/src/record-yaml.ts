import { isoTime } from './internal/iso-time.js';
import type { InvocationRecord, JobRecord } from './invocation-record.js';
import type { Rusage } from './launcher.js';
import type { StatInfo } from './stat-files.js';

// A hand-written serializer: it runs once per task in the cluster, so no YAML library here.
// Every free-form string is double-quoted (JSON escapes are valid YAML escapes; the few
// characters YAML wants escaped but JSON leaves raw are escaped too). Output data that is plain
// printable text is written as a literal block (`data: |`), like kickstart does.

const PLAIN_QUOTABLE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const YAML_UNSAFE = /[\x7f-\x9f\ufeff\ufffe\uffff]/g;

/** A YAML double-quoted scalar for any string. */
export function quote(s: string): string {
  if (PLAIN_QUOTABLE.test(s)) return `"${s}"`;
  return JSON.stringify(s).replace(YAML_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// literal block: starts with a non-blank printable, printable lines (tabs ok), one final newline,
// no whitespace-only line (its spaces would be read as indentation)
const BLOCK_TEXT =
  /^[^\s\x00-\x1f\x7f-\x9f][^\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff]*\n$/;
const BLANKISH_LINE = /\n[ \t]+\n/;

function scalarText(s: string, indent: string): string {
  if (s.length > 1 && BLOCK_TEXT.test(s) && !s.endsWith('\n\n') && !BLANKISH_LINE.test(s)) {
    return `|\n${indent}${s.slice(0, -1).replaceAll('\n', `\n${indent}`)}\n`;
  }
  return `${quote(s)}\n`;
}

function fixed3(n: number): string {
  return Number.isFinite(n) ? n.toFixed(3) : '0.000';
}

function octal(n: number, width: number): string {
  return `0o${n.toString(8).padStart(width, '0')}`;
}

function usageYaml(u: Rusage, ind: string): string {
  return (
    `${ind}utime: ${fixed3(u.utime)}\n${ind}stime: ${fixed3(u.stime)}\n${ind}maxrss: ${u.maxrss}\n` +
    `${ind}minflt: ${u.minflt}\n${ind}majflt: ${u.majflt}\n${ind}nswap: ${u.nswap}\n` +
    `${ind}inblock: ${u.inblock}\n${ind}outblock: ${u.outblock}\n${ind}msgsnd: ${u.msgsnd}\n` +
    `${ind}msgrcv: ${u.msgrcv}\n${ind}nsignals: ${u.nsignals}\n${ind}nvcsw: ${u.nvcsw}\n${ind}nivcsw: ${u.nivcsw}\n`
  );
}

function statYaml(s: StatInfo, ind: string): string {
  let o = '';
  if (s.file_name !== undefined) o += `${ind}file_name: ${quote(s.file_name)}\n`;
  if (s.temporary_name !== undefined) o += `${ind}temporary_name: ${quote(s.temporary_name)}\n`;
  if (s.descriptor !== undefined) o += `${ind}descriptor: ${s.descriptor}\n`;
  if (s.mode !== undefined) o += `${ind}mode: ${octal(s.mode, 5)}\n`;
  if (s.size !== undefined) o += `${ind}size: ${s.size}\n`;
  if (s.inode !== undefined) o += `${ind}inode: ${s.inode}\n`;
  if (s.nlink !== undefined) o += `${ind}nlink: ${s.nlink}\n`;
  if (s.blksize !== undefined) o += `${ind}blksize: ${s.blksize}\n`;
  if (s.blocks !== undefined) o += `${ind}blocks: ${s.blocks}\n`;
  if (s.mtime !== undefined) o += `${ind}mtime: ${s.mtime}\n`;
  if (s.atime !== undefined) o += `${ind}atime: ${s.atime}\n`;
  if (s.ctime !== undefined) o += `${ind}ctime: ${s.ctime}\n`;
  if (s.uid !== undefined) o += `${ind}uid: ${s.uid}\n`;
  if (s.user !== undefined) o += `${ind}user: ${quote(s.user)}\n`;
  if (s.gid !== undefined) o += `${ind}gid: ${s.gid}\n`;
  if (s.group !== undefined) o += `${ind}group: ${quote(s.group)}\n`;
  if (s.lfn !== undefined) o += `${ind}lfn: ${quote(s.lfn)}\n`;
  if (s.output) o += `${ind}output: true\n`;
  if (s.sha256 !== undefined) o += `${ind}sha256: ${s.sha256}\n`;
  if (s.checksum_timing !== undefined) o += `${ind}checksum_timing: ${fixed3(s.checksum_timing)}\n`;
  if (s.error !== undefined) o += `${ind}error: ${s.error}\n`;
  if (s.data_truncated !== undefined) o += `${ind}data_truncated: ${s.data_truncated}\n`;
  if (s.data !== undefined) o += `${ind}data: ${scalarText(s.data, `${ind}  `)}`;
  return o === '' ? `${ind}{}\n` : o;
}

function jobYaml(name: string, j: JobRecord): string {
  let o = `  ${name}:\n    start: ${isoTime(j.start)}\n    duration: ${fixed3(j.duration)}\n`;
  if (j.pid) o += `    pid: ${j.pid}\n`;
  if (j.usage) o += `    usage:\n${usageYaml(j.usage, '      ')}`;
  else o += '    rusage: unavailable\n';
  const s = j.status;
  o += `    status:\n      raw: ${s.raw}\n`;
  if (s.regular_exitcode !== undefined) o += `      regular_exitcode: ${s.regular_exitcode}\n`;
  if (s.signalled_signal !== undefined) {
    o += `      signalled_signal: ${s.signalled_signal}\n      singalled_name: ${quote(s.singalled_name ?? '')}\n`;
    o += `      corefile: ${s.corefile === true}\n`;
  }
  if (s.failure_error !== undefined) o += `      failure_error: ${quote(s.failure_error)}\n`;
  o += `    executable:\n${statYaml(j.executable, '      ')}`;
  if (j.argument_vector.length === 0) o += '    argument_vector: []\n';
  else {
    o += '    argument_vector:\n';
    for (const a of j.argument_vector) o += `      - ${quote(a)}\n`;
  }
  return o;
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const RESERVED_KEY = /^(true|false|null|yes|no|on|off|y|n)$/i;

function key(k: string): string {
  return PLAIN_KEY.test(k) && !RESERVED_KEY.test(k) ? k : quote(k);
}

function mapYaml(m: Record<string, string | number>, ind: string, sort: boolean): string {
  const keys = Object.keys(m);
  if (keys.length === 0) return ' {}\n';
  if (sort) keys.sort();
  let o = '\n';
  for (const k of keys) {
    const v = m[k];
    o += `${ind}${key(k)}: ${typeof v === 'number' ? v : quote(v)}\n`;
  }
  return o;
}

/**
 * The record as one YAML sequence item (`- invocation: true ...`): records appended to one file
 * form one YAML sequence, as kickstart's do.
 */
export function formatRecordYaml(r: InvocationRecord): string {
  let o = `- invocation: true\n  version: 3.0\n  start: ${isoTime(r.start)}\n  duration: ${fixed3(r.duration)}\n`;
  if (r.transformation !== undefined) o += `  transformation: ${quote(r.transformation)}\n`;
  if (r.derivation !== undefined) o += `  derivation: ${quote(r.derivation)}\n`;
  if (r.resource !== undefined) o += `  resource: ${quote(r.resource)}\n`;
  if (r.wfLabel !== undefined) o += `  wf-label: ${quote(r.wfLabel)}\n`;
  if (r.wfStamp !== undefined) o += `  wf-stamp: ${quote(r.wfStamp)}\n`;
  if (r.interface !== undefined) o += `  interface: ${quote(r.interface)}\n`;
  if (r.hostaddr !== undefined) o += `  hostaddr: ${quote(r.hostaddr)}\n`;
  o += `  hostname: ${quote(r.hostname)}\n  pid: ${r.pid}\n  uid: ${r.uid}\n`;
  if (r.user !== undefined) o += `  user: ${quote(r.user)}\n`;
  o += `  gid: ${r.gid}\n`;
  if (r.group !== undefined) o += `  group: ${quote(r.group)}\n`;
  o += `  umask: ${octal(r.umask, 4)}\n`;
  o += jobYaml('mainjob', r.mainjob);
  if (r.timedOut) o += '  timed_out: true\n';
  o += `  cwd: ${quote(r.cwd)}\n  usage:\n${usageYaml(r.usage, '    ')}`;
  if (r.machine) o += `  machine:${mapYaml(r.machine, '    ', false)}`;
  o += '  files:\n';
  for (const [name, info] of r.files) o += `    ${key(name)}:\n${statYaml(info, '      ')}`;
  if (r.environment) o += `  environment:${mapYaml(r.environment, '    ', true)}`;
  if (r.limits) o += `  limits:${mapYaml(r.limits, '    ', false)}`;
  return o;
}
