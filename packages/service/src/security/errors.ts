/**
 * A refusal by the server security rules: a listen address that would expose the server
 * without TLS and a credential, a certificate file that cannot be read, a request path that
 * leaves its root. One line; `status` is the HTTP status a request handler answers with
 * (400 for a malformed path, 403 for one that leaves its root, 404 for a missing file), and
 * `exitCode` is what the CLI exits with when the error stops the server from starting.
 */
export class SecurityError extends Error {
  override name = 'SecurityError';
  constructor(
    message: string,
    readonly status = 403,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}
