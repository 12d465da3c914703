import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { generate } from 'selfsigned';
import { SecurityError } from './errors.js';

/** A PEM certificate (chain) and its private key, as `https.createServer` takes them. */
export interface TlsPair {
  readonly cert: string;
  readonly key: string;
  /** SHA-256 fingerprint of a generated certificate, for the user to check (undefined for files). */
  readonly fingerprint?: string;
}

function readPem(file: string, what: string, marker: RegExp): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new SecurityError(`${file}: cannot read the TLS ${what} (${code})`, 400);
  }
  if (!marker.test(text))
    throw new SecurityError(`${file}: expected a PEM ${what} (-----BEGIN ...-----)`, 400);
  return text;
}

/** Reads a PEM certificate and key pair from files; a clear error names the file that is wrong. */
export function readTlsPair(certFile: string, keyFile: string): TlsPair {
  return {
    cert: readPem(certFile, 'certificate', /-----BEGIN CERTIFICATE-----/),
    key: readPem(keyFile, 'private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/),
  };
}

/**
 * A fresh self-signed certificate (EC P-256, valid `days` days) for `host`, with `localhost`,
 * 127.0.0.1 and ::1 also in its subject alternative names. It lives only in memory: clients
 * see the fingerprint and must trust it explicitly (curl -k, or pin it).
 */
export async function selfSignedPair(host: string, days = 30): Promise<TlsPair> {
  const names = new Set([host, 'localhost', '127.0.0.1', '::1']);
  const altNames = [...names]
    .filter((n) => n !== '' && n !== '0.0.0.0' && n !== '::')
    .map((n) => (isIP(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n }));
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: isIP(host) ? 'pegasus-ts' : host }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 60_000),
    notAfterDate: new Date(now + days * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  return { cert: pems.cert, key: pems.private, fingerprint: pems.fingerprint };
}
