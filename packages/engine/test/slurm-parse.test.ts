// Pure parsing of Slurm's client output. Fixtures: real output of Slurm 22.05 (Debian 12,
// scripts/slurm/start-slurm.sh), captured with the commands named above each one.
import { describe, expect, it } from 'vitest';
import { SlurmError } from '../src/slurm/slurm-error.js';
import {
  decodeWaitStatus,
  isTerminalState,
  mapSlurmState,
  parseExitCodePair,
  parseSbatchParsable,
  parseScontrolJobLine,
  parseScontrolJobs,
  parseSlurmTime,
  parseSqueue,
  parseSqueueFormat,
  type SlurmState,
  scontrolFields,
} from '../src/slurm/slurm-parse.js';

const tail =
  'Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-21T12:15:23 Scheduler=Main Partition=debug AllocNode:Sid=localhost:4590 ReqNodeList=(null) ExcNodeList=(null)';
const tail2 =
  'NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=(null) WorkDir=/tmp/slcap StdErr=/tmp/slcap/slurm-1.out StdIn=/dev/null StdOut=/tmp/slcap/slurm-1.out Power= ';

// scontrol -o show job   (after: sbatch -J ok --wrap 'echo hi'; -J 'fail me' --wrap 'exit 3';
// -J sig --wrap 'kill -9 $$'; -J big -n 20 (more CPUs than the node); a running sleep; scancel of
// a running job; --time=1 + scontrol update EndTime=now)
const SCONTROL = [
  `JobId=1 JobName=ok UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901759 Nice=0 Account=(null) QOS=(null) JobState=COMPLETED Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:00 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-21T12:15:21 EligibleTime=2026-11-21T12:15:21 AccrueTime=2026-11-21T12:15:21 StartTime=2026-11-21T12:15:23 EndTime=2026-11-21T12:15:23 ${tail} NodeList=vm BatchHost=vm ${tail2}`,
  `JobId=2 JobName=fail me UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901758 Nice=0 Account=(null) QOS=(null) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=3:0 RunTime=00:00:00 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-21T12:15:21 EligibleTime=2026-11-21T12:15:21 AccrueTime=2026-11-21T12:15:21 StartTime=2026-11-21T12:15:23 EndTime=2026-11-21T12:15:23 ${tail} NodeList=vm BatchHost=vm ${tail2}`,
  `JobId=3 JobName=sig UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901757 Nice=0 Account=(null) QOS=(null) JobState=FAILED Reason=JobLaunchFailure Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:9 RunTime=00:00:00 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-21T12:15:21 EligibleTime=2026-11-21T12:15:21 AccrueTime=2026-11-21T12:15:21 StartTime=2026-11-21T12:15:23 EndTime=2026-11-21T12:15:23 ${tail} NodeList=vm BatchHost=vm ${tail2}`,
  `JobId=5 JobName=big UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901755 Nice=0 Account=(null) QOS=(null) JobState=PENDING Reason=PartitionConfig Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:00 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-21T12:15:21 EligibleTime=2026-11-21T12:15:21 AccrueTime=2026-11-21T12:15:21 StartTime=Unknown EndTime=Unknown Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-21T12:15:21 Scheduler=Main Partition=debug AllocNode:Sid=localhost:4590 ReqNodeList=(null) ExcNodeList=(null) NodeList= NumNodes=3 NumCPUs=20 NumTasks=20 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=20,mem=23849M,node=1,billing=20 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=(null) WorkDir=/tmp/slcap StdErr=/tmp/slcap/slurm-5.out StdIn=/dev/null StdOut=/tmp/slcap/slurm-5.out Power= `,
  `JobId=6 JobName=run UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901754 Nice=0 Account=(null) QOS=(null) JobState=RUNNING Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:00 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-21T12:18:39 EligibleTime=2026-11-21T12:18:39 AccrueTime=2026-11-21T12:18:39 StartTime=2026-11-21T12:18:42 EndTime=Unknown ${tail} NodeList=vm BatchHost=vm ${tail2}`,
  `JobId=8 JobName=tl UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901752 Nice=0 Account=(null) QOS=(null) JobState=TIMEOUT Reason=TimeLimit Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:15 RunTime=00:00:10 TimeLimit=00:01:00 TimeMin=N/A SubmitTime=2026-11-21T12:19:26 EligibleTime=2026-11-21T12:19:26 AccrueTime=2026-11-21T12:19:26 StartTime=2026-11-21T12:19:26 EndTime=2026-11-21T12:19:36 ${tail} NodeList=vm BatchHost=vm ${tail2}`,
  `JobId=9 JobName=runkill UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901751 Nice=0 Account=(null) QOS=(null) JobState=CANCELLED Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:15 RunTime=00:00:00 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-21T12:19:26 EligibleTime=2026-11-21T12:19:26 AccrueTime=2026-11-21T12:19:26 StartTime=2026-11-21T12:19:26 EndTime=2026-11-21T12:19:26 ${tail} NodeList=vm BatchHost=vm ${tail2}`,
].join('\n');

// squeue -h -t all -O 'JobID:|,State:|,Reason:|,exit_code:|,SubmitTime:|,StartTime:|,EndTime:|,NodeList:|,Name:'
const SQUEUE = `4|CANCELLED|Priority|0|2026-11-21T12:18:39|2026-11-21T12:18:41|2026-11-21T12:18:41||long
1|COMPLETED|None|0|2026-11-21T12:18:39|2026-11-21T12:18:42|2026-11-21T12:18:42|vm|ok
2|FAILED|NonZeroExitCode|768|2026-11-21T12:18:39|2026-11-21T12:18:42|2026-11-21T12:18:42|vm|fail me
3|FAILED|JobLaunchFailure|9|2026-11-21T12:18:39|2026-11-21T12:18:42|2026-11-21T12:18:42|vm|sig
5|PENDING|PartitionConfig|0|2026-11-21T12:18:39|N/A|N/A||big
6|RUNNING|None|0|2026-11-21T12:18:39|2026-11-21T12:18:42|NONE|vm|run
8|TIMEOUT|TimeLimit|15|2026-11-21T12:19:26|2026-11-21T12:19:26|2026-11-21T12:19:36|vm|tl
10|COMPLETED|None|0|2026-11-21T12:18:39|2026-11-21T12:18:42|2026-11-21T12:18:42|vm|merge_koto-koto-sim-1_0_PID1_ID1_very_long_name_here_x
`;

const local = (s: string) => new Date(s); // Slurm prints local time without an offset

describe('sbatch --parsable', () => {
  it('reads ID and ID;CLUSTER', () => {
    expect(parseSbatchParsable('8\n')).toEqual({ id: '8' });
    expect(parseSbatchParsable('123456;pegasus-ts\n')).toEqual({ id: '123456', cluster: 'pegasus-ts' });
    expect(parseSbatchParsable('some banner\n\n42\n')).toEqual({ id: '42' });
  });
  it('rejects anything else with a one-line SlurmError', () => {
    for (const bad of ['', 'Submitted batch job 8', '8 9', 'x;y']) {
      let err: unknown;
      try {
        parseSbatchParsable(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SlurmError);
      expect((err as SlurmError).kind).toBe('parse');
      expect((err as SlurmError).message).toMatch(/^sbatch --parsable printed .* \(expected a job id/);
      expect((err as SlurmError).message).not.toContain('\n');
    }
  });
});

describe('scontrol -o show job', () => {
  const jobs = parseScontrolJobs(`${SCONTROL}\n`);
  const byId = new Map(jobs.map((j) => [j.id, j]));
  it('reads every job line', () => {
    expect(jobs.map((j) => j.id)).toEqual(['1', '2', '3', '5', '6', '8', '9']);
  });
  it('a completed job', () => {
    expect(byId.get('1')).toEqual({
      id: '1',
      name: 'ok',
      state: 'completed',
      rawState: 'COMPLETED',
      reason: 'None',
      exitCode: 0,
      signal: 0,
      submit: local('2026-11-21T12:15:21'),
      start: local('2026-11-21T12:15:23'),
      end: local('2026-11-21T12:15:23'),
      nodes: 'vm',
    });
  });
  it('a failed job with a name holding a space, its exit code', () => {
    const j = byId.get('2')!;
    expect(j).toMatchObject({
      name: 'fail me',
      state: 'failed',
      reason: 'NonZeroExitCode',
      exitCode: 3,
      signal: 0,
    });
  });
  it('a batch script killed by a signal', () => {
    expect(byId.get('3')).toMatchObject({
      state: 'failed',
      exitCode: 0,
      signal: 9,
      reason: 'JobLaunchFailure',
    });
  });
  it('a pending job: no start, no end, no nodes', () => {
    const j = byId.get('5')!;
    expect(j).toMatchObject({ state: 'pending', reason: 'PartitionConfig', nodes: '' });
    expect(j.start).toBeUndefined();
    expect(j.end).toBeUndefined();
  });
  it('a running job: a start, no end', () => {
    const j = byId.get('6')!;
    expect(j.state).toBe('running');
    expect(j.start).toEqual(local('2026-11-21T12:18:42'));
    expect(j.end).toBeUndefined();
  });
  it('a job past its time limit, a cancelled job', () => {
    expect(byId.get('8')).toMatchObject({ state: 'timeout', reason: 'TimeLimit', exitCode: 0, signal: 15 });
    expect(byId.get('8')!.end).toEqual(local('2026-11-21T12:19:36'));
    expect(byId.get('9')).toMatchObject({ state: 'cancelled', exitCode: 0, signal: 15 });
  });
  it('ignores what is not a job line', () => {
    expect(parseScontrolJobs('No jobs in the system\n')).toEqual([]);
    expect(parseScontrolJobLine('slurm_load_jobs error: Invalid job id specified')).toBeUndefined();
  });
  it('splits fields at " Key=" and keeps a JobName with "=" and spaces up to UserId', () => {
    const f = scontrolFields('JobId=7 JobName=a b=c d UserId=root(0) AllocNode:Sid=localhost:4590 Power= ');
    expect(f.get('JobId')).toBe('7');
    expect(f.get('JobName')).toBe('a b=c d');
    expect(f.get('UserId')).toBe('root(0)');
    expect(f.get('AllocNode:Sid')).toBe('localhost:4590');
    expect(f.get('Power')).toBe('');
  });
});

describe('squeue -O', () => {
  const jobs = parseSqueue(SQUEUE);
  const byId = new Map(jobs.map((j) => [j.id, j]));
  it('reads the same facts as scontrol, exit codes from the wait status', () => {
    expect(jobs).toHaveLength(8);
    expect(byId.get('1')).toEqual({
      id: '1',
      name: 'ok',
      state: 'completed',
      rawState: 'COMPLETED',
      reason: 'None',
      exitCode: 0,
      signal: 0,
      submit: local('2026-11-21T12:18:39'),
      start: local('2026-11-21T12:18:42'),
      end: local('2026-11-21T12:18:42'),
      nodes: 'vm',
    });
    expect(byId.get('2')).toMatchObject({ name: 'fail me', state: 'failed', exitCode: 3, signal: 0 });
    expect(byId.get('3')).toMatchObject({ state: 'failed', exitCode: 0, signal: 9 });
    expect(byId.get('4')).toMatchObject({ state: 'cancelled', nodes: '' });
    expect(byId.get('5')).toMatchObject({ state: 'pending', nodes: '' });
    expect(byId.get('5')!.start).toBeUndefined();
    expect(byId.get('6')).toMatchObject({ state: 'running' });
    expect(byId.get('6')!.end).toBeUndefined();
    expect(byId.get('8')).toMatchObject({ state: 'timeout', signal: 15 });
    expect(byId.get('10')!.name).toBe('merge_koto-koto-sim-1_0_PID1_ID1_very_long_name_here_x');
  });
  it('keeps a name holding "|" whole (the name is the last field)', () => {
    expect(parseSqueue('11|RUNNING|None|0|N/A|N/A|N/A|vm|a|b\n')[0]!.name).toBe('a|b');
  });
  it('a short line is a parse error naming the line', () => {
    expect(() => parseSqueue('1|RUNNING\n')).toThrow(/squeue output line 1 .* has 2 fields/);
  });
  it('plain -o formats', () => {
    expect(parseSqueueFormat('4|long|CANCELLED\n2|fail me|FAILED\n', '%i|%j|%T')).toEqual([
      { i: '4', j: 'long', T: 'CANCELLED' },
      { i: '2', j: 'fail me', T: 'FAILED' },
    ]);
    expect(parseSqueueFormat('7 R x y\n', '%.18i %t %j', ' ')).toEqual([{ i: '7', t: 'R', j: 'x y' }]);
  });
});

describe('states, exit codes, times', () => {
  it('maps every Slurm state, long and short forms', () => {
    const cases: [string, SlurmState][] = [
      ['PENDING', 'pending'],
      ['CONFIGURING', 'pending'],
      ['REQUEUED', 'pending'],
      ['RUNNING', 'running'],
      ['COMPLETING', 'running'],
      ['SUSPENDED', 'running'],
      ['COMPLETED', 'completed'],
      ['FAILED', 'failed'],
      ['CANCELLED', 'cancelled'],
      ['CANCELLED by 0', 'cancelled'],
      ['TIMEOUT', 'timeout'],
      ['DEADLINE', 'timeout'],
      ['NODE_FAIL', 'node_fail'],
      ['BOOT_FAIL', 'node_fail'],
      ['OUT_OF_MEMORY', 'out_of_memory'],
      ['PREEMPTED', 'preempted'],
      ['PD', 'pending'],
      ['R', 'running'],
      ['CD', 'completed'],
      ['CA', 'cancelled'],
      ['TO', 'timeout'],
      ['OOM', 'out_of_memory'],
      ['running', 'running'],
      ['WHATEVER', 'unknown'],
      ['', 'unknown'],
    ];
    for (const [raw, s] of cases) expect([raw, mapSlurmState(raw)]).toEqual([raw, s]);
  });
  it('says which states are terminal', () => {
    const terminal = [
      'completed',
      'failed',
      'cancelled',
      'timeout',
      'node_fail',
      'out_of_memory',
      'preempted',
    ];
    for (const s of terminal) expect(isTerminalState(s as SlurmState)).toBe(true);
    for (const s of ['pending', 'running', 'unknown']) expect(isTerminalState(s as SlurmState)).toBe(false);
  });
  it('exit codes', () => {
    expect(parseExitCodePair('3:0')).toEqual({ exitCode: 3, signal: 0 });
    expect(parseExitCodePair('0:15')).toEqual({ exitCode: 0, signal: 15 });
    expect(parseExitCodePair('N/A')).toEqual({ exitCode: -1, signal: 0 });
    expect(decodeWaitStatus('768')).toEqual({ exitCode: 3, signal: 0 });
    expect(decodeWaitStatus('9')).toEqual({ exitCode: 0, signal: 9 });
    expect(decodeWaitStatus('65280')).toEqual({ exitCode: 255, signal: 0 });
    expect(decodeWaitStatus('')).toEqual({ exitCode: -1, signal: 0 });
  });
  it('times', () => {
    expect(parseSlurmTime('2026-11-21T12:15:23')).toEqual(local('2026-11-21T12:15:23'));
    for (const t of ['N/A', 'Unknown', 'None', 'NONE', '', '2026-11-21'])
      expect(parseSlurmTime(t)).toBeUndefined();
  });
});
