/** A real pino logger whose JSON lines are kept in memory, for tests that assert on log lines. */
import { type LoggerOptions, type Logger, pino } from 'pino';

export interface CapturedLog {
  logger: Logger;
  /** Every line written so far, parsed. */
  lines: () => Array<Record<string, unknown>>;
  /** Every line written so far, as written. */
  raw: () => string[];
}

export function captureLog(level: LoggerOptions['level'] = 'info', options: LoggerOptions = {}): CapturedLog {
  const written: string[] = [];
  // pino writes each line with one synchronous write() to any object that has one.
  const logger = pino({ level, ...options }, { write: (s: string) => { written.push(s); } });
  return {
    logger,
    raw: () => written.map((s) => s.trimEnd()),
    lines: () => written.map((s) => JSON.parse(s) as Record<string, unknown>),
  };
}
