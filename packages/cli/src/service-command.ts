import type { Command } from 'commander';
import type { CommandContext } from './program.js';

interface ServiceFlags {
  host?: string;
  port?: string;
  tlsCert?: string;
  tlsKey?: string;
  selfSigned?: boolean;
  token?: string;
  user?: string;
  masterDb?: string;
}

/** `pegasus-ts service`: thin glue over @pegasus-ts/service's startService; runs until SIGINT/SIGTERM. */
export function registerServiceCommand(program: Command, ctx: CommandContext): Command {
  return program
    .command('service')
    .summary('REST API and web dashboard of your workflows (pegasus-service)')
    .description(
      'Serve the workflows that plan and run registered (in $PEGASUS_TS_HOME/workflows.db, default ' +
        '~/.pegasus-ts/workflows.db): a web dashboard and a JSON REST API under /api/v1. Listens on ' +
        '127.0.0.1 by default; on any other address it needs TLS (--tls-cert and --tls-key, or ' +
        '--self-signed) and a credential (--token, or --user with the password in ' +
        'PEGASUS_TS_SERVICE_PASSWORD; the token may also come from PEGASUS_TS_SERVICE_TOKEN).',
    )
    .option('--host <address>', 'address to listen on (default 127.0.0.1)')
    .option('--port <n>', 'TCP port, 0 for any free one (default 5000)')
    .option('--tls-cert <file>', 'PEM certificate (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key (with --tls-cert)')
    .option('--self-signed', 'generate a self-signed certificate in memory (its fingerprint is printed)')
    .option('--token <token>', 'bearer token clients must send (default $PEGASUS_TS_SERVICE_TOKEN)')
    .option('--user <name>', 'user for HTTP basic authentication (password in $PEGASUS_TS_SERVICE_PASSWORD)')
    .option('--master-db <file>', 'the master database (default $PEGASUS_TS_HOME/workflows.db)')
    .action(async (flags: ServiceFlags) => {
      const s = await import('@pegasus-ts/service');
      const env = ctx.io.env;
      let port: number | undefined;
      if (flags.port !== undefined) {
        port = /^\d{1,5}$/.test(flags.port) ? Number(flags.port) : Number.NaN;
        if (!(port >= 0 && port <= 65535))
          throw new s.ServiceError(`--port ${flags.port}: expected an integer from 0 to 65535`);
      }
      const service = await s.startService({
        host: flags.host,
        port,
        certFile: flags.tlsCert,
        keyFile: flags.tlsKey,
        selfSigned: flags.selfSigned,
        token:
          flags.token ?? (flags.user === undefined ? env.PEGASUS_TS_SERVICE_TOKEN : undefined) ?? undefined,
        user: flags.user,
        password: flags.user === undefined ? undefined : (env.PEGASUS_TS_SERVICE_PASSWORD ?? ''),
        masterDb: flags.masterDb,
        env,
        log: (line) => ctx.io.stderr(`${line}\n`),
      });
      const tls = service.policy.tls;
      ctx.io.stdout(
        `pegasus-ts service listening on ${service.url}/ (workflows of ${flags.masterDb ?? s.masterDbPath(env)})\n` +
          (tls?.fingerprint ? `  self-signed certificate, SHA-256 fingerprint ${tls.fingerprint}\n` : '') +
          (service.policy.credential
            ? `  clients must authenticate (${service.policy.credential.kind})\n`
            : ''),
      );
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await service.close();
      ctx.setExitCode(0);
    });
}
