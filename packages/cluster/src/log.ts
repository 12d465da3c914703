/** Log levels, PMC's: fatal 0, error 1, warn 2, info 3 (default), debug 4, trace 5. */
export const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LEVELS)[number];

export interface Logger {
  readonly verbosity: number;
  enabled(level: LogLevel): boolean;
  log(level: LogLevel, message: string): void;
  fatal(message: string): void;
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
  trace(message: string): void;
}

/** A logger writing `[level] message` lines (PMC's format) to a sink, stderr by default. */
export function createLogger(
  verbosity = 3,
  sink: (line: string) => void = (line) => process.stderr.write(line),
  prefix = '',
): Logger {
  const enabled = (level: LogLevel) => LEVELS.indexOf(level) <= verbosity;
  const log = (level: LogLevel, message: string) => {
    if (enabled(level)) sink(`${prefix}[${level}] ${message}\n`);
  };
  return {
    verbosity,
    enabled,
    log,
    fatal: (m) => log('fatal', m),
    error: (m) => log('error', m),
    warn: (m) => log('warn', m),
    info: (m) => log('info', m),
    debug: (m) => log('debug', m),
    trace: (m) => log('trace', m),
  };
}
