import { TransferError } from '../errors.js';

export type Scheme = 'file' | 'symlink' | 'http' | 'https';

export interface ParsedUrl {
  scheme: Scheme;
  url: string;
  /** file:// and symlink://: the absolute path (taken verbatim, not percent-decoded) */
  path: string;
}

const SCHEMES = new Set<string>(['file', 'symlink', 'http', 'https']);

/**
 * Splits a transfer URL. `file:///p`, `file://localhost/p` and `file:/p` name the path `/p`
 * (likewise `symlink://`). An unknown scheme or a file URL with a host is a permanent
 * TransferError.
 */
export function parseTransferUrl(url: string): ParsedUrl {
  const colon = url.indexOf(':');
  const scheme = colon > 0 ? url.slice(0, colon).toLowerCase() : '';
  if (!SCHEMES.has(scheme)) {
    throw new TransferError(
      colon > 0
        ? `unsupported URL scheme "${scheme}" in ${url} (expected file, symlink, http or https)`
        : `${JSON.stringify(url)} is not a URL (expected file:///path, symlink:///path, http:// or https://)`,
      true,
    );
  }
  if (scheme === 'http' || scheme === 'https') return { scheme, url, path: '' };
  const rest = url.slice(colon + 1);
  let path: string;
  if (rest.startsWith('///')) path = rest.slice(2);
  else if (rest.startsWith('//localhost/')) path = rest.slice('//localhost'.length);
  else if (rest.startsWith('/') && !rest.startsWith('//')) path = rest;
  else {
    throw new TransferError(`${url} does not name an absolute local path (expected ${scheme}:///path)`, true);
  }
  return { scheme: scheme as Scheme, url, path };
}
