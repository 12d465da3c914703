import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { SecurityError } from './errors.js';

/**
 * What a client must present: a bearer token (`Authorization: Bearer TOKEN`) or a user and
 * password (`Authorization: Basic base64(user:password)`).
 */
export type Credential =
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'basic'; readonly user: string; readonly password: string };

/** The credential options of a server command line (`--token`, `--user`, `--password`). */
export interface CredentialOptions {
  readonly token?: string;
  readonly user?: string;
  readonly password?: string;
}

/**
 * The credential the options ask for, or undefined when none is given. A token and a user
 * are exclusive; a user needs a password and a password a user; empty values are refused
 * (an empty secret would let anybody in).
 */
export function credentialFrom(options: CredentialOptions): Credential | undefined {
  const { token, user, password } = options;
  if (token !== undefined && (user !== undefined || password !== undefined)) {
    throw new SecurityError('give either a token or a user and password, not both', 400);
  }
  if (token !== undefined) {
    if (token.length < 8) throw new SecurityError('the token must have at least 8 characters', 400);
    return { kind: 'token', token };
  }
  if (user === undefined && password === undefined) return undefined;
  if (!user) throw new SecurityError('a password needs a user (--user)', 400);
  if (user.includes(':')) throw new SecurityError(`user '${user}': a user name cannot contain ':'`, 400);
  if (!password) throw new SecurityError(`user '${user}' needs a password (--password)`, 400);
  return { kind: 'basic', user, password };
}

/** A fresh random bearer token (32 bytes, base64url): for a server that was given none. */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

function sameSecret(given: string, expected: string): boolean {
  // Digests have equal lengths, so the comparison time says nothing about the secret's length.
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * True when the `Authorization` header value carries `credential`; also true for every request
 * when there is no credential (a loopback server). Comparisons take the same time whatever the
 * mismatch.
 */
export function isAuthorized(header: string | undefined, credential: Credential | undefined): boolean {
  if (!credential) return true;
  if (!header) return false;
  const space = header.indexOf(' ');
  if (space < 0) return false;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (credential.kind === 'token') return scheme === 'bearer' && sameSecret(value, credential.token);
  if (scheme !== 'basic') return false;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  const userOk = sameSecret(decoded.slice(0, colon), credential.user);
  const passwordOk = sameSecret(decoded.slice(colon + 1), credential.password);
  return userOk && passwordOk;
}

/** The cookie a browser keeps a bearer token in (set by the server after `?token=` once). */
export const TOKEN_COOKIE = 'pegasus-ts-token';

/** The request headers that may carry a credential. */
export interface CredentialHeaders {
  readonly authorization?: string | undefined;
  readonly cookie?: string | undefined;
}

/**
 * True when a request's headers carry `credential`: the `Authorization` header, or for a token
 * also the {@link TOKEN_COOKIE} cookie (an `EventSource` or a page load cannot set headers).
 */
export function isAuthorizedRequest(headers: CredentialHeaders, credential: Credential | undefined): boolean {
  if (isAuthorized(headers.authorization, credential)) return true;
  if (credential?.kind !== 'token' || !headers.cookie) return false;
  for (const part of headers.cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === TOKEN_COOKIE) {
      let value = part.slice(eq + 1).trim();
      try {
        value = decodeURIComponent(value);
      } catch {
        return false;
      }
      if (sameSecret(value, credential.token)) return true;
    }
  }
  return false;
}

/** The `Set-Cookie` value that keeps `token` in a browser (HttpOnly, SameSite=Strict, Secure under TLS). */
export function tokenCookie(token: string, secure: boolean): string {
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/**
 * The `WWW-Authenticate` header of a 401 answer for `credential` (`Bearer` or `Basic`, so that
 * a browser asks for a user and password).
 */
export function authenticateChallenge(credential: Credential, realm = 'pegasus-ts'): string {
  return credential.kind === 'token' ? `Bearer realm="${realm}"` : `Basic realm="${realm}", charset="UTF-8"`;
}
