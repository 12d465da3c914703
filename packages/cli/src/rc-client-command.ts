import type { Command } from 'commander';
import type { CommandContext } from './program.js';

interface RcClientFlags {
  catalog: string;
  insert: string;
}

/**
 * `pegasus-ts rc-client`: what a registration job runs. Adds the `{lfn, url, site}` entries of a
 * JSON file to a replica catalog file (rc-5.0 YAML), idempotently and under a lock.
 */
export function addRcClientCommand(program: Command, ctx: CommandContext): Command {
  return program
    .command('rc-client')
    .summary('register replicas in a replica catalog file (pegasus-rc-client)')
    .description(
      'Add the replicas listed in a JSON file ([{"lfn": ..., "url": ..., "site": ...}, ...]) to a ' +
        'replica catalog file (rc-5.0 YAML, created if missing). An entry already there is not added ' +
        'again, so a rerun changes nothing. Registration jobs run this.',
    )
    .requiredOption('--catalog <file>', 'the replica catalog file (e.g. SUBMIT_DIR/output-replicas.yml)')
    .requiredOption('--insert <file>', 'JSON file with the replicas to add')
    .action(async (flags: RcClientFlags) => {
      const { readRegistrations, registerReplicas } = await import('@pegasus-ts/engine');
      const entries = await readRegistrations(flags.insert);
      const added = await registerReplicas(flags.catalog, entries);
      ctx.io.stdout(`registered ${added} new replica(s) of ${entries.length} in ${flags.catalog}\n`);
      ctx.setExitCode(0);
    });
}
