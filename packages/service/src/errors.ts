/**
 * A user error of the service (a master database that cannot be opened, a bad option): one
 * line; `exitCode` is what the CLI exits with. Request errors carry `status` (the HTTP status).
 */
export class ServiceError extends Error {
  override name = 'ServiceError';
  constructor(
    message: string,
    readonly status = 400,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}
