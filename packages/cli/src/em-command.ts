import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CommandContext } from './program.js';
import { pegasusTsCommand } from './run-command.js';

type Ensemble = typeof import('@pegasus-ts/ensemble');

interface HomeFlag {
  home?: string;
}

async function client(cmd: Command, ctx: CommandContext) {
  const em = await import('@pegasus-ts/ensemble');
  const { home } = cmd.optsWithGlobals() as HomeFlag;
  return { em, c: em.EmClient.fromEnv(ctx.io.env, home) };
}

const seg = encodeURIComponent;

function wfPath(em: Ensemble, ref: string): string {
  const { ensemble, workflow } = em.parseWorkflowRef(ref);
  return `/ensembles/${seg(ensemble)}/workflows/${seg(workflow)}`;
}

function ensPath(em: Ensemble, name: string): string {
  return `/ensembles/${seg(em.checkName('ensemble', name))}`;
}

/** `pegasus-ts em ...`: the ensemble manager's server and its client commands (pegasus-em). */
export function addEmCommand(program: Command, ctx: CommandContext): void {
  const out = (text: string) => ctx.io.stdout(text);
  const em = program
    .command('em')
    .summary('ensemble manager: ensembles of workflows with throttles, priorities and triggers (pegasus-em)')
    .description(
      'Manage ensembles of workflows: each workflow is planned by its plan command and run by the engine, ' +
        'at most max_planning planning and max_running running per ensemble, higher priority first. ' +
        '`em server` runs the manager; the other commands talk to it over its REST API. Its home (database, ' +
        'logs, processed files) is $PEGASUS_TS_HOME/em (default ~/.pegasus-ts/em) or --home.',
    )
    .option('--home <dir>', 'the manager home directory')
    .enablePositionalOptions();

  em.command('server')
    .description(
      'run the ensemble manager (until SIGINT/SIGTERM); loopback only unless given TLS and a credential',
    )
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--port <n>', 'TCP port (0 picks a free one; default 7919 + uid % 57616)')
    .option('--tick <ms>', 'milliseconds between manager passes (default 1000)')
    .option('--token <token>', 'require this bearer token')
    .option('--user <user>', 'require this user (with --password)')
    .option('--password <password>', 'the password of --user')
    .option('--tls-cert <file>', 'PEM certificate (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key')
    .option('--self-signed', 'serve TLS with a generated self-signed certificate')
    .action(async (flags: Record<string, string | boolean | undefined>, cmd: Command) => {
      const e = await import('@pegasus-ts/ensemble');
      const { home } = cmd.optsWithGlobals() as HomeFlag;
      const num = (k: string, min: number, max: number) =>
        flags[k] === undefined ? undefined : e.parseCount(`--${k}`, String(flags[k]), min, max);
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        await e.runServer(
          {
            home: e.emHome(ctx.io.env, home),
            host: flags.host as string | undefined,
            port: num('port', 0, 65535),
            tickMs: num('tick', 10, 3_600_000),
            token: flags.token as string | undefined,
            user: flags.user as string | undefined,
            password: flags.password as string | undefined,
            certFile: flags.tlsCert as string | undefined,
            keyFile: flags.tlsKey as string | undefined,
            selfSigned: Boolean(flags.selfSigned),
            pegasusTs: pegasusTsCommand(ctx.io.env),
            env: ctx.io.env,
            log: (line) =>
              ctx.io.stderr(`${new Date().toISOString().replace('T', ' ').slice(0, 19)} ${line}\n`),
          },
          stop.signal,
        );
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      ctx.setExitCode(0);
    });

  em.command('create')
    .description('create an ensemble')
    .argument('<ensemble>', 'its name')
    .option('-R, --max-running <n>', 'workflows running at once (default 1)')
    .option('-P, --max-planning <n>', 'workflows planning at once (default 1)')
    .action(async (name: string, flags: { maxRunning?: string; maxPlanning?: string }, cmd: Command) => {
      const { em, c } = await client(cmd, ctx);
      em.checkName('ensemble', name);
      const e = (await c.call('POST', '/ensembles', {
        name,
        max_running: flags.maxRunning && em.parseCount('-R', flags.maxRunning, 1),
        max_planning: flags.maxPlanning && em.parseCount('-P', flags.maxPlanning, 1),
      })) as import('@pegasus-ts/ensemble').EnsembleJson;
      out(`created ensemble ${e.name} (max running ${e.max_running}, max planning ${e.max_planning})\n`);
    });

  em.command('ensembles')
    .description('list the ensembles')
    .action(async (_flags: unknown, cmd: Command) => {
      const { em, c } = await client(cmd, ctx);
      out(em.formatEnsembles((await c.call('GET', '/ensembles')) as never));
    });

  for (const [verb, state, what] of [
    ['pause', 'PAUSED', 'plan and start nothing new (running workflows go on)'],
    ['activate', 'ACTIVE', 'plan and run again (releasing held engines)'],
    ['hold', 'HELD', 'as pause, and hold the running engines (SIGSTOP) until activate or pause'],
  ] as const) {
    em.command(verb)
      .description(what)
      .argument('<ensemble>')
      .action(async (name: string, _flags: unknown, cmd: Command) => {
        const { em, c } = await client(cmd, ctx);
        const e = (await c.call('PUT', ensPath(em, name), { state })) as { name: string; state: string };
        out(`ensemble ${e.name} is ${e.state}\n`);
      });
  }

  em.command('config')
    .description("change an ensemble's throttles")
    .argument('<ensemble>')
    .option('-R, --max-running <n>', 'workflows running at once')
    .option('-P, --max-planning <n>', 'workflows planning at once')
    .action(async (name: string, flags: { maxRunning?: string; maxPlanning?: string }, cmd: Command) => {
      const { em, c } = await client(cmd, ctx);
      const e = (await c.call('PUT', ensPath(em, name), {
        max_running: flags.maxRunning && em.parseCount('-R', flags.maxRunning, 1),
        max_planning: flags.maxPlanning && em.parseCount('-P', flags.maxPlanning, 1),
      })) as import('@pegasus-ts/ensemble').EnsembleJson;
      out(`ensemble ${e.name}: max running ${e.max_running}, max planning ${e.max_planning}\n`);
    });

  em.command('submit')
    .description(
      'add a workflow to an ensemble; the manager runs PLAN_COMMAND (no shell) in this directory and runs ' +
        'the submit dir it prints (its last line, or a `pegasus-run DIR` line). Options go before ENS.WF.',
    )
    .argument('<ens.wf>', 'ENSEMBLE.WORKFLOW')
    .argument('<plan_command...>', 'the plan command and its arguments')
    .option('-p, --priority <n>', 'higher first (default 0)')
    .passThroughOptions()
    .action(async (ref: string, command: string[], flags: { priority?: string }, cmd: Command) => {
      const { em, c } = await client(cmd, ctx);
      const { ensemble, workflow } = em.parseWorkflowRef(ref);
      const w = (await c.call('POST', `/ensembles/${seg(ensemble)}/workflows`, {
        name: workflow,
        basedir: process.cwd(),
        plan_command: command,
        priority: flags.priority && em.parseCount('-p', flags.priority, -1_000_000),
      })) as import('@pegasus-ts/ensemble').WorkflowJson;
      out(`submitted ${w.ensemble}.${w.name} (priority ${w.priority}, ${w.state})\n`);
    });

  em.command('workflows')
    .description('list the workflows of an ensemble')
    .argument('<ensemble>')
    .option('-l, --long', 'also the submit dir and plan command')
    .action(async (name: string, flags: { long?: boolean }, cmd: Command) => {
      const { em, c } = await client(cmd, ctx);
      out(em.formatWorkflows((await c.call('GET', `${ensPath(em, name)}/workflows`)) as never, flags.long));
    });

  em.command('status')
    .description("a workflow's state, fields and history")
    .argument('<ens.wf>')
    .action(async (ref: string, _flags: unknown, cmd: Command) => {
      const { em, c } = await client(cmd, ctx);
      out(em.formatWorkflowStatus((await c.call('GET', wfPath(em, ref))) as never));
    });

  em.command('analyze')
    .description("a workflow's plan output (LOG:) and the analyzer's report on its run (ANALYZER:)")
    .argument('<ens.wf>')
    .action(async (ref: string, _flags: unknown, cmd: Command) => {
      const { em, c } = await client(cmd, ctx);
      out(String(await c.call('GET', `${wfPath(em, ref)}/analyze`)));
    });

  em.command('priority')
    .description("change a workflow's priority")
    .argument('<ens.wf>')
    .requiredOption('-p, --priority <n>', 'the new priority (higher first)')
    .action(async (ref: string, flags: { priority: string }, cmd: Command) => {
      const { em, c } = await client(cmd, ctx);
      const w = (await c.call('PUT', wfPath(em, ref), {
        priority: em.parseCount('-p', flags.priority, -1_000_000),
      })) as import('@pegasus-ts/ensemble').WorkflowJson;
      out(`${w.ensemble}.${w.name}: priority ${w.priority}\n`);
    });

  for (const [action, what] of [
    ['replan', 'plan a workflow again (PLAN_FAILED, FAILED or ABORTED -> READY)'],
    ['rerun', 'run a workflow again from its submit dir; the engine resumes (FAILED or ABORTED -> QUEUED)'],
    ['abort', 'stop a workflow: its plan command or its engine and jobs (-> ABORTED)'],
  ] as const) {
    em.command(action)
      .description(what)
      .argument('<ens.wf>')
      .action(async (ref: string, _flags: unknown, cmd: Command) => {
        const { em, c } = await client(cmd, ctx);
        const w = (await c.call('POST', `${wfPath(em, ref)}/${action}`)) as {
          ensemble: string;
          name: string;
          state: string;
        };
        out(`${w.ensemble}.${w.name} is ${w.state}\n`);
      });
  }

  em.command('triggers')
    .description('list the triggers (of one ensemble, or all)')
    .argument('[ensemble]')
    .action(async (name: string | undefined, _flags: unknown, cmd: Command) => {
      const { em, c } = await client(cmd, ctx);
      out(
        em.formatTriggers(
          (await c.call('GET', name ? `${ensPath(em, name)}/triggers` : '/triggers')) as never,
        ),
      );
    });

  const addTrigger = async (
    cmd: Command,
    kind: 'cron' | 'file_pattern',
    ensemble: string,
    name: string,
    interval: string,
    script: string,
    patterns: string[],
    flags: { args?: string[]; timeout?: string },
  ) => {
    const { em, c } = await client(cmd, ctx);
    em.checkName('trigger', name);
    em.parseInterval('interval', interval);
    if (flags.timeout !== undefined) em.parseInterval('timeout (-t)', flags.timeout);
    for (const p of patterns) em.parseFilePattern(p);
    const t = (await c.call('POST', `${ensPath(em, ensemble)}/triggers/${kind}`, {
      trigger: name,
      interval,
      timeout: flags.timeout,
      workflow_script: resolve(script),
      workflow_args: flags.args ?? [],
      file_patterns: patterns,
      basedir: process.cwd(),
    })) as import('@pegasus-ts/ensemble').TriggerJson;
    out(`trigger ${t.ensemble}.${t.name} (${t.type}) fires every ${interval}\n`);
  };

  em.command('cron-trigger')
    .description(
      'submit a workflow planned by SCRIPT [ARGS] every INTERVAL (<int><s|m|h|d>), named TRIGGER_<epoch>',
    )
    .argument('<ensemble>')
    .argument('<trigger>')
    .argument('<interval>')
    .argument('<script>', 'the plan command it submits')
    .option('--args <args...>', 'arguments for the script')
    .option('-t, --timeout <interval>', 'stop the trigger after this long')
    .action(async (ens: string, name: string, interval: string, script: string, flags, cmd: Command) => {
      await addTrigger(cmd, 'cron', ens, name, interval, script, [], flags);
    });

  em.command('file-pattern-trigger')
    .description(
      'every INTERVAL, submit a workflow planned by `SCRIPT [ARGS] --inputs F1 F2 ...` when new files match ' +
        "the absolute PATTERNs; the files are moved to the trigger's processed/ folder first",
    )
    .argument('<ensemble>')
    .argument('<trigger>')
    .argument('<interval>')
    .argument('<script>')
    .argument('<pattern...>', 'absolute globs such as /data/in/*.h5')
    .option('--args <args...>', 'arguments for the script (before --inputs)')
    .option('-t, --timeout <interval>', 'stop the trigger after this long')
    .action(
      async (
        ens: string,
        name: string,
        interval: string,
        script: string,
        patterns: string[],
        flags,
        cmd: Command,
      ) => {
        await addTrigger(cmd, 'file_pattern', ens, name, interval, script, patterns, flags);
      },
    );

  em.command('stop-trigger')
    .description('stop a trigger (it fires no more)')
    .argument('<ensemble>')
    .argument('<trigger>')
    .action(async (ens: string, name: string, _flags: unknown, cmd: Command) => {
      const { em, c } = await client(cmd, ctx);
      const t = (await c.call(
        'DELETE',
        `${ensPath(em, ens)}/triggers/${seg(em.checkName('trigger', name))}`,
      )) as {
        ensemble: string;
        name: string;
        state: string;
      };
      out(`trigger ${t.ensemble}.${t.name} is ${t.state}\n`);
    });
}
