import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { EnsembleError } from './errors.js';
import { emHome } from './home.js';
import { readServerInfo, type ServerInfo } from './server-info.js';

/** How the client proves who it is (as the server was started: `--token`, or `--user`/`--password`). */
export type ClientCredential = { token: string } | { user: string; password: string };

/** A REST answer: status and body (JSON parsed, or text). */
interface Answer {
  status: number;
  body: unknown;
}

/**
 * The manager's REST API from a client (what `pegasus-ts em` uses). Errors the server reports
 * come back as EnsembleError with the server's one-line message and exit code.
 */
export class EmClient {
  constructor(
    readonly server: ServerInfo,
    private readonly credential?: ClientCredential,
  ) {}

  /** The client of the manager running on `home` (its server.json); an error when none runs. */
  static forHome(home: string, credential?: ClientCredential): EmClient {
    const info = readServerInfo(home);
    if (!info)
      throw new EnsembleError(
        `no ensemble manager runs on ${home} (start one with: pegasus-ts em server)`,
        1,
        503,
      );
    return new EmClient(info, credential);
  }

  /** The client for `env` (PEGASUS_TS_HOME) or an explicit home; the token from PEGASUS_TS_EM_TOKEN when set. */
  static fromEnv(env: NodeJS.ProcessEnv, home?: string): EmClient {
    const credential: ClientCredential | undefined = env.PEGASUS_TS_EM_TOKEN
      ? { token: env.PEGASUS_TS_EM_TOKEN }
      : env.PEGASUS_TS_EM_USER && env.PEGASUS_TS_EM_PASSWORD
        ? { user: env.PEGASUS_TS_EM_USER, password: env.PEGASUS_TS_EM_PASSWORD }
        : undefined;
    return EmClient.forHome(emHome(env, home), credential);
  }

  /** Sends one request; an error status becomes an EnsembleError. */
  async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const a = await this.send(method, path, body);
    if (a.status >= 400) {
      const b = a.body as { error?: string; exit_code?: number } | string;
      const message = typeof b === 'object' && b?.error ? b.error : `HTTP ${a.status}`;
      const code = typeof b === 'object' && typeof b?.exit_code === 'number' ? b.exit_code : 1;
      throw new EnsembleError(message, a.status === 401 ? 1 : code, a.status);
    }
    return a.body;
  }

  private send(method: string, path: string, body?: unknown): Promise<Answer> {
    const url = new URL(path, this.server.url);
    const headers: Record<string, string> = { accept: 'application/json' };
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const c = this.credential;
    if (c && 'token' in c) headers.authorization = `Bearer ${c.token}`;
    else if (c) headers.authorization = `Basic ${Buffer.from(`${c.user}:${c.password}`).toString('base64')}`;
    const https = url.protocol === 'https:';
    const certificate = this.server.certificate;
    return new Promise((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(
        url,
        {
          method,
          headers,
          // a self-signed certificate is trusted when it is the one the server wrote in server.json
          ...(https && certificate ? { ca: [certificate] } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            if ((res.headers['content-type'] ?? '').includes('json')) {
              try {
                parsed = JSON.parse(text);
              } catch {
                /* keep the text */
              }
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
          res.on('error', reject);
        },
      );
      req.on('error', (err) =>
        reject(
          new EnsembleError(
            `cannot reach the ensemble manager at ${this.server.url}: ${err.message}`,
            1,
            503,
          ),
        ),
      );
      req.end(payload);
    });
  }
}
