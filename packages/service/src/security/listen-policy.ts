import { isIP } from 'node:net';
import { type Credential, type CredentialOptions, credentialFrom } from './credentials.js';
import { SecurityError } from './errors.js';
import { readTlsPair, selfSignedPair, type TlsPair } from './tls.js';

/** The default listen address: loopback only. */
export const DEFAULT_HOST = '127.0.0.1';

/** How a server was asked to listen (a server command line's options). */
export interface ListenOptions extends CredentialOptions {
  /** Address to listen on; default {@link DEFAULT_HOST}. */
  readonly host?: string;
  /** PEM certificate file (with `keyFile`). */
  readonly certFile?: string;
  /** PEM private key file (with `certFile`). */
  readonly keyFile?: string;
  /** Generate a self-signed pair in memory instead of reading files. */
  readonly selfSigned?: boolean;
}

/** What the server must do: where to listen, with which TLS pair and credential (if any). */
export interface ListenPolicy {
  readonly host: string;
  /** True when `host` is a loopback address (only this machine can connect). */
  readonly loopback: boolean;
  readonly tls: TlsPair | undefined;
  readonly credential: Credential | undefined;
}

/**
 * True for addresses only this machine can reach: 127.0.0.0/8, ::1, ::ffff:127.x and the name
 * `localhost`. The wildcard addresses (0.0.0.0, ::) and every other name are not loopback.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^(0+:){7}0*1$/.test(h) || /^::ffff:127\./.test(h);
  return false;
}

/** The TLS pair the options ask for, without reading anything (checks only the combination). */
function tlsChoice(options: ListenOptions): 'files' | 'self-signed' | 'none' {
  const { certFile, keyFile, selfSigned } = options;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new SecurityError(
      certFile === undefined
        ? 'a TLS key needs its certificate (--tls-cert)'
        : 'a TLS certificate needs its key (--tls-key)',
      400,
    );
  }
  if (certFile !== undefined && selfSigned) {
    throw new SecurityError('give either a certificate and key or --self-signed, not both', 400);
  }
  return certFile !== undefined ? 'files' : selfSigned ? 'self-signed' : 'none';
}

/**
 * Decides how a server listens, and refuses what is unsafe: on loopback (the default) plain
 * HTTP and no credential are fine (TLS and a credential are used when given); off loopback the
 * server refuses to start unless it has both TLS (certificate and key files, or a generated
 * self-signed pair) and a credential (a token, or a user and password). Reads the certificate
 * files or generates the pair; every refusal is a one-line {@link SecurityError}.
 */
export async function resolveListenPolicy(options: ListenOptions): Promise<ListenPolicy> {
  const host = options.host ?? DEFAULT_HOST;
  if (host.trim() === '') throw new SecurityError('the listen host is empty', 400);
  const loopback = isLoopbackHost(host);
  const credential = credentialFrom(options);
  const choice = tlsChoice(options);
  if (!loopback) {
    const missing = [
      ...(choice === 'none' ? ['TLS (--tls-cert and --tls-key, or --self-signed)'] : []),
      ...(credential ? [] : ['a credential (--token, or --user and --password)']),
    ];
    if (missing.length > 0) {
      throw new SecurityError(
        `refusing to listen on ${host} (not loopback) without ${missing.join(' and ')}`,
        400,
      );
    }
  }
  const tls =
    choice === 'files'
      ? readTlsPair(options.certFile!, options.keyFile!)
      : choice === 'self-signed'
        ? await selfSignedPair(host)
        : undefined;
  return { host, loopback, tls, credential };
}
