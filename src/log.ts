/**
 * One winston root logger per broker; connections and channels take child loggers. Human-readable by
 * default, JSON for machines. Hot paths check `log.isDebugEnabled()` before building debug lines.
 */
import winston from 'winston';

export type LogFormat = 'text' | 'json';
export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'silent';

export function createLogger(level: LogLevel, format: LogFormat = 'text', stream: NodeJS.WritableStream = process.stderr): winston.Logger {
  const fmt = format === 'json'
    ? winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json())
    : winston.format.combine(
      winston.format.timestamp(),
      winston.format.errors({ stack: true }),
      winston.format.printf((info) => {
        const { timestamp, level: lvl, message, stack, ...meta } = info as Record<string, unknown>;
        const extra = Object.keys(meta).length > 0 ? ` ${JSON.stringify(meta, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}` : '';
        return `${String(timestamp)} ${lvl}: ${String(message)}${extra}${stack ? `\n${String(stack)}` : ''}`;
      }),
    );
  return winston.createLogger({
    level: level === 'silent' ? 'error' : level,
    silent: level === 'silent',
    format: fmt,
    transports: [new winston.transports.Stream({ stream })],
  });
}
