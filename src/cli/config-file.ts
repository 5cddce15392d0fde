/**
 * The config file (`warren --config warren.json`): JSON with RabbitMQ's rabbitmq.conf keys where
 * RabbitMQ has one (listeners.tcp.default, default_user, heartbeat, loopback_users, ssl_options.*, ...) and Warren's
 * own keys for the rest (data_dir, store, fsync). Dotted keys may be written flat
 * (`"listeners.tcp.default": 5672`) or nested (`"listeners": {"tcp": {"default": 5672}}`).
 * Unknown keys are errors: a misspelt key silently ignored is a misconfigured broker.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { BrokerConfig } from '../config.js';
import { DEFAULT_CONFIG } from '../config.js';
import type { LogLevel } from '../log.js';
import {
  CliError, type ConfigKey, OPTIONS, parseBoolean, parseHost, parseOptionValue, parsePort, parseUserList,
} from './args.js';

/** Keys that map one-to-one onto an option, read with the option's own parser. */
const SIMPLE_KEYS: ReadonlyMap<string, ConfigKey> = new Map<string, ConfigKey>([
  ['default_user', 'defaultUser'],
  ['default_pass', 'defaultPass'],
  ['default_vhost', 'defaultVhost'],
  ['heartbeat', 'heartbeat'],
  ['frame_max', 'frameMax'],
  ['channel_max', 'channelMax'],
  ['max_message_size', 'maxMessageSize'],
  ['handshake_timeout', 'handshakeTimeout'],
  ['ssl_options.fail_if_no_peer_cert', 'tlsFailIfNoPeerCert'],
  ['ssl_options.password', 'tlsKeyPassword'],
  // Warren's own: RabbitMQ sets these through environment variables or has no equivalent.
  ['store', 'store'],
  ['fsync', 'fsync'],
  ['memory_budget', 'memoryBudget'],
]);

/** RabbitMQ's log levels (log.console.level) next to Warren's. */
const RABBIT_LOG_LEVELS: ReadonlyMap<string, LogLevel> = new Map<string, LogLevel>([
  ['debug', 'debug'], ['info', 'info'], ['warning', 'warn'], ['warn', 'warn'], ['error', 'error'],
  ['critical', 'error'], ['none', 'silent'], ['silent', 'silent'],
]);

/** Every key the file accepts, for --help and error messages. */
export const CONFIG_FILE_KEYS: readonly string[] = [
  'listeners.tcp.default', 'default_user', 'default_pass', 'default_vhost', 'loopback_users',
  'loopback_users.<user>', 'heartbeat', 'frame_max', 'channel_max', 'max_message_size', 'log.console.level',
  'log.default.level', 'log.console.formatter', 'data_dir', 'store', 'fsync',
  'listeners.ssl.default', 'ssl_options.certfile', 'ssl_options.keyfile', 'ssl_options.cacertfile', 'ssl_options.verify',
  'ssl_options.fail_if_no_peer_cert', 'ssl_options.password',
];

/** ssl_options.certfile/keyfile/cacertfile: like data_dir, a relative path is relative to the file. */
const TLS_FILE_KEYS: ReadonlyMap<string, 'tlsCert' | 'tlsKey' | 'tlsCa'> = new Map([
  ['ssl_options.certfile', 'tlsCert'],
  ['ssl_options.keyfile', 'tlsKey'],
  ['ssl_options.cacertfile', 'tlsCa'],
] as const);

/** Read and parse a config file; a relative data_dir is relative to the file's directory. */
export function loadConfigFile(file: string): Partial<BrokerConfig> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new CliError(`config file ${file}: ${why}`);
  }
  return parseConfigText(text, file, path.dirname(path.resolve(file)));
}

/** Parse a config file's text. Pure; `baseDir` anchors a relative data_dir. */
export function parseConfigText(text: string, file: string, baseDir: string): Partial<BrokerConfig> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CliError(`config file ${file}: not valid JSON (${(err as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new CliError(`config file ${file}: must hold a JSON object`);
  }
  const entries: Array<[string, unknown]> = [];
  flatten(json as Record<string, unknown>, '', entries);
  const out: Partial<BrokerConfig> = {};
  let loopbackUsers: string[] | undefined;
  const loopbackEdits: Array<[string, boolean]> = [];
  let consoleLevel: LogLevel | undefined;
  let defaultLevel: LogLevel | undefined;
  let tlsHost: { host: string; where: string } | undefined;
  const seen = new Set<string>();

  for (const [key, value] of entries) {
    const where = `config file ${file}: ${key}`;
    if (seen.has(key)) throw new CliError(`${where}: set twice`);
    seen.add(key);
    const simple = SIMPLE_KEYS.get(key);
    if (simple !== undefined) {
      setKey(out, simple, parseOptionValue(OPTIONS[simple], scalar(value, where), where));
      continue;
    }
    const tlsFile = TLS_FILE_KEYS.get(key);
    if (tlsFile !== undefined) {
      const file = parseOptionValue(OPTIONS[tlsFile], scalar(value, where), where);
      setKey(out, tlsFile, path.resolve(baseDir, file as string));
      continue;
    }
    if (key.startsWith('loopback_users.')) {
      // rabbitmq.conf: `loopback_users.guest = false` takes guest off the list.
      const user = key.slice('loopback_users.'.length);
      loopbackEdits.push([user, parseWith(parseBoolean, scalar(value, where), where)]);
      continue;
    }
    switch (key) {
      case 'listeners.tcp.default': {
        const listener = parseListener(scalar(value, where), where);
        if (listener.host !== undefined) out.host = listener.host;
        out.port = listener.port;
        break;
      }
      case 'listeners.ssl.default': {
        const listener = parseListener(scalar(value, where), where);
        if (listener.host !== undefined) tlsHost = { host: listener.host, where };
        out.tlsPort = listener.port;
        break;
      }
      case 'ssl_options.verify': {
        const text = scalar(value, where);
        const raw = text.trim().toLowerCase();
        if (raw !== 'verify_peer' && raw !== 'verify_none') {
          throw new CliError(`${where}: ${JSON.stringify(text)} is not one of verify_peer, verify_none`);
        }
        out.tlsVerifyPeer = raw === 'verify_peer';
        break;
      }
      case 'loopback_users':
        loopbackUsers = Array.isArray(value)
          ? parseWith(parseUserList, value.map((u) => scalar(u, where)).join(','), where)
          : parseWith(parseUserList, scalar(value, where), where);
        break;
      case 'log.console.level':
        consoleLevel = parseLogLevel(scalar(value, where), where);
        break;
      case 'log.default.level':
        defaultLevel = parseLogLevel(scalar(value, where), where);
        break;
      case 'log.console.formatter': {
        // RabbitMQ calls the text format "plaintext".
        const raw = scalar(value, where);
        out.logFormat = parseOptionValue(OPTIONS.logFormat, raw.trim().toLowerCase() === 'plaintext' ? 'text' : raw, where);
        break;
      }
      case 'data_dir': {
        const dir = parseOptionValue(OPTIONS.dataDir, scalar(value, where), where);
        out.dataDir = path.resolve(baseDir, dir);
        break;
      }
      default:
        throw new CliError(`${where}: unknown key (known: ${CONFIG_FILE_KEYS.join(', ')})`);
    }
  }
  if (loopbackUsers !== undefined || loopbackEdits.length > 0) {
    const users = new Set(loopbackUsers ?? DEFAULT_CONFIG.loopbackUsers);
    for (const [user, on] of loopbackEdits) {
      if (on) users.add(user);
      else users.delete(user);
    }
    out.loopbackUsers = [...users];
  }
  // Warren's TLS listener listens where the plain one does: an address is accepted only if it is that one.
  if (tlsHost !== undefined && tlsHost.host !== out.host) {
    throw new CliError(`${tlsHost.where}: the TLS listener uses the address of listeners.tcp.default (${out.host ?? 'not set'}), `
      + `not ${tlsHost.host}: give a port only`);
  }
  const level = consoleLevel ?? defaultLevel;
  if (level !== undefined) out.logLevel = level;
  return out;
}

/** Nested objects become dotted keys; arrays and scalars are values. */
function flatten(obj: Record<string, unknown>, prefix: string, out: Array<[string, unknown]>): void {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix + k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, `${key}.`, out);
    else out.push([key, v]);
  }
}

/** rabbitmq.conf values are all text; JSON may give numbers and booleans too. */
function scalar(value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new CliError(`${where}: expected a string, number or boolean, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
}

function parseWith<T>(parse: (raw: string) => T, raw: string, where: string): T {
  try {
    return parse(raw);
  } catch (err) {
    throw new CliError(`${where}: ${JSON.stringify(raw)} ${(err as Error).message}`);
  }
}

function parseLogLevel(raw: string, where: string): LogLevel {
  const level = RABBIT_LOG_LEVELS.get(raw.trim().toLowerCase());
  if (level === undefined) throw new CliError(`${where}: ${JSON.stringify(raw)} is not one of ${[...RABBIT_LOG_LEVELS.keys()].join(', ')}`);
  return level;
}

/**
 * listeners.tcp.default as rabbitmq.conf writes it: `5672`, `127.0.0.1:5672`, `[::1]:5672` or `::1:5672`
 * (RabbitMQ's own form for IPv6: everything before the last colon is the address).
 */
export function parseListener(raw: string, where: string): { host: string | undefined; port: number } {
  const text = raw.trim();
  const colon = text.lastIndexOf(':');
  if (colon < 0) return { host: undefined, port: parseWith(parsePort, text, where) };
  return {
    host: parseWith(parseHost, text.slice(0, colon), where),
    port: parseWith(parsePort, text.slice(colon + 1), where),
  };
}

function setKey(out: Partial<BrokerConfig>, key: ConfigKey, value: unknown): void {
  (out as Record<string, unknown>)[key] = value;
}
