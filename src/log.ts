/**
 * One winston root logger per broker; connections and channels take child loggers. Human-readable by
 * default (`<time> <level> <message> key=value ...`), one JSON object per line for machines. Hot paths
 * check `log.isDebugEnabled()` before building debug lines.
 */
import winston from 'winston';

export type LogFormat = 'text' | 'json';
export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'silent';

export function createLogger(level: LogLevel, format: LogFormat = 'text', stream: NodeJS.WritableStream = process.stderr): winston.Logger {
  const fmt = format === 'json'
    ? winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.printf(jsonLine))
    : winston.format.combine(
      winston.format.timestamp(),
      winston.format.errors({ stack: true }),
      winston.format.printf(textLine),
    );
  return winston.createLogger({
    level: level === 'silent' ? 'error' : level,
    silent: level === 'silent',
    format: fmt,
    transports: [new winston.transports.Stream({ stream })],
  });
}

/** `2025-01-01T00:00:00.000Z info  connection opened connection=1 peer=127.0.0.1:5555 user=guest` */
export function textLine(info: winston.Logform.TransformableInfo): string {
  const { timestamp, level, message, stack, ...meta } = info as Record<string, unknown>;
  let line = `${String(timestamp)} ${String(level).padEnd(5)} ${String(message)}`;
  for (const [key, value] of Object.entries(meta)) {
    if (value !== undefined) line += ` ${key}=${textValue(value)}`;
  }
  return stack === undefined ? line : `${line}\n${String(stack)}`;
}

/** `{"timestamp":"...","level":"info","message":"connection opened","connection":1,...}`: fixed fields first. */
export function jsonLine(info: winston.Logform.TransformableInfo): string {
  const { timestamp, level, message, ...rest } = info as Record<string, unknown>;
  const ordered = { timestamp, level, message, ...rest };
  try {
    return JSON.stringify(ordered, bigintAsString);
  } catch (err) {
    // A circular or otherwise unserialisable field must not cost the line itself.
    return JSON.stringify({ timestamp, level, message: String(message), logError: (err as Error).message });
  }
}

function bigintAsString(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** logfmt-style: bare when unambiguous, JSON-quoted when the value has spaces, quotes or `=`. */
function textValue(value: unknown): string {
  if (typeof value === 'bigint' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return value !== '' && !/[\s"=\\]/.test(value) ? value : JSON.stringify(value);
  try {
    return JSON.stringify(value, bigintAsString) ?? String(value);
  } catch {
    return '"[unserialisable]"';
  }
}
