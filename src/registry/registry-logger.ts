/**
 * The logging port of registry/: structured message + fields. The composition root passes its logger in
 * (monitoring/ owns the real one). Fields never hold secrets: callers log locations, codes and reasons only.
 */
export interface RegistryLogger {
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

/** A logger that drops everything (for callers that do not care). */
export const silentLogger: RegistryLogger = Object.freeze({ info: () => undefined, warn: () => undefined });

/** One recorded log line (see {@link memoryLogger}). */
export interface LogRecord {
  readonly level: 'info' | 'warn';
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** A logger that keeps every line in `records` (tests, CLI summaries). */
export function memoryLogger(): RegistryLogger & { readonly records: LogRecord[] } {
  const records: LogRecord[] = [];
  return {
    records,
    info: (message, fields = {}) => void records.push({ level: 'info', message, fields }),
    warn: (message, fields = {}) => void records.push({ level: 'warn', message, fields }),
  };
}
