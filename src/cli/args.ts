/**
 * The `warren` command line: flags, WARREN_* environment variables and a config file, merged with
 * precedence flags > environment > config file > defaults. Pure: the config file is read through the
 * function the caller passes, so everything here is unit-tested without touching the disk.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { type BrokerConfig, DEFAULT_CONFIG } from '../config.js';
import type { LogFormat, LogLevel } from '../log.js';
import { FRAME_MIN_SIZE } from '../protocol/generated/constants.js';
import { tlsSettingsProblem } from '../server/tls-settings.js';

/** A usage or configuration error: main prints `warren: <message>` and exits with 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

export type ConfigKey = keyof BrokerConfig;

/** One broker option as the three sources spell it, with its value parser. */
export interface OptionSpec<K extends ConfigKey = ConfigKey> {
  readonly key: K;
  /** `--flag` name, without the dashes. */
  readonly flag: string;
  readonly env: string;
  /** The config file key that sets it (documentation; config-file.ts does the reading). */
  readonly configKey: string;
  /** Placeholder in --help; absent for boolean flags, which take no value (`--fsync`, `--no-fsync`). */
  readonly arg?: string;
  readonly description: string;
  /** Parse a textual value; throws a plain Error whose message completes "<source>: '<value>' ...". */
  readonly parse: (raw: string) => BrokerConfig[K];
  /** How --help shows the default. (Method syntax: an OptionSpec<'port'> is then an OptionSpec.) */
  showDefault(value: BrokerConfig[K]): string;
}

// ------------------------------------------------------------------ value parsers

const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug', 'silent'];
const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];
const STORES: readonly BrokerConfig['store'][] = ['level', 'memory'];
/** RabbitMQ caps max_message_size at 512 MiB. */
const MAX_MESSAGE_SIZE_LIMIT = 536870912;

function integer(min: number, max: number, what = 'an integer'): (raw: string) => number {
  return (raw) => {
    const text = raw.trim();
    if (!/^\d+$/.test(text)) throw new Error(`is not ${what} (${min}-${max})`);
    const n = Number(text);
    if (n < min || n > max) throw new Error(`is out of range (${min}-${max})`);
    return n;
  };
}

function oneOf<T extends string>(values: readonly T[]): (raw: string) => T {
  return (raw) => {
    const v = raw.trim().toLowerCase();
    if (!(values as readonly string[]).includes(v)) throw new Error(`is not one of ${values.join(', ')}`);
    return v as T;
  };
}

function nonEmpty(raw: string): string {
  if (raw === '') throw new Error('must not be empty');
  return raw;
}

export function parseBoolean(raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes' || v === 'on') return true;
  if (v === 'false' || v === '0' || v === 'no' || v === 'off') return false;
  throw new Error('is not a boolean (true or false)');
}

export const parsePort = integer(0, 65535, 'a port number');

/** `[::1]` is how an IPv6 address is written next to a port; net.listen wants it bare. */
export function parseHost(raw: string): string {
  const host = raw.trim();
  if (host === '') throw new Error('must not be empty');
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare === '' || /\s/.test(bare)) throw new Error('is not a host name or address');
  return bare;
}

/** Comma-separated user names; `none` (RabbitMQ's `loopback_users = none`) or empty means nobody. */
export function parseUserList(raw: string): string[] {
  const v = raw.trim();
  if (v === '' || v.toLowerCase() === 'none') return [];
  const users = v.split(',').map((u) => u.trim());
  if (users.some((u) => u === '')) throw new Error('has an empty user name');
  return [...new Set(users)];
}

/** RabbitMQ: channel_max = 0 means "no limit", which on the wire is the largest channel number. */
function parseChannelMax(raw: string): number {
  const n = integer(0, 65535)(raw);
  return n === 0 ? 65535 : n;
}

// ------------------------------------------------------------------ the options

const str = (v: string): string => v;
const num = (v: number): string => String(v);
/** TLS files may be PEM text when embedded; --help only ever shows the (absent) default. */
const shownFile = (v: string | Buffer | undefined): string => (v === undefined ? 'none' : typeof v === 'string' ? v : '(PEM)');

/** Every BrokerConfig field, in --help order. */
export const OPTIONS: { readonly [K in ConfigKey]: OptionSpec<K> } = {
  host: {
    key: 'host', flag: 'host', env: 'WARREN_HOST', configKey: 'listeners.tcp.default', arg: 'HOST',
    description: 'Interface to listen on; 0.0.0.0 and :: serve IPv4 and IPv6',
    parse: parseHost, showDefault: str,
  },
  port: {
    key: 'port', flag: 'port', env: 'WARREN_PORT', configKey: 'listeners.tcp.default', arg: 'PORT',
    description: 'TCP port; 0 picks a free one (the startup line shows it)',
    parse: parsePort, showDefault: num,
  },
  dataDir: {
    key: 'dataDir', flag: 'data-dir', env: 'WARREN_DATA_DIR', configKey: 'data_dir', arg: 'DIR',
    description: 'Directory for durable state (LevelDB), created if missing',
    parse: nonEmpty, showDefault: str,
  },
  store: {
    key: 'store', flag: 'store', env: 'WARREN_STORE', configKey: 'store', arg: 'level|memory',
    description: 'Keep durable state in LevelDB, or in memory (lost on exit)',
    parse: oneOf(STORES), showDefault: str,
  },
  fsync: {
    key: 'fsync', flag: 'fsync', env: 'WARREN_FSYNC', configKey: 'fsync',
    description: 'fsync each write batch: survive power loss, not only a crash',
    parse: parseBoolean, showDefault: (v) => String(v),
  },
  memoryBudget: {
    key: 'memoryBudget', flag: 'memory-budget', env: 'WARREN_MEMORY_BUDGET', configKey: 'memory_budget', arg: 'BYTES',
    description: 'Persistent message bytes kept in memory; the rest wait on disk',
    parse: integer(1024 * 1024, Number.MAX_SAFE_INTEGER), showDefault: num,
  },
  logLevel: {
    key: 'logLevel', flag: 'log-level', env: 'WARREN_LOG_LEVEL', configKey: 'log.console.level', arg: 'LEVEL',
    description: 'error, warn, info, debug or silent (logs go to stderr)',
    parse: oneOf(LOG_LEVELS), showDefault: str,
  },
  logFormat: {
    key: 'logFormat', flag: 'log-format', env: 'WARREN_LOG_FORMAT', configKey: 'log.console.formatter', arg: 'text|json',
    description: 'Lines for people (text) or one JSON object per line',
    parse: oneOf(LOG_FORMATS), showDefault: str,
  },
  defaultUser: {
    key: 'defaultUser', flag: 'default-user', env: 'WARREN_DEFAULT_USER', configKey: 'default_user', arg: 'USER',
    description: 'The user clients log in as',
    parse: nonEmpty, showDefault: str,
  },
  defaultPass: {
    key: 'defaultPass', flag: 'default-pass', env: 'WARREN_DEFAULT_PASS', configKey: 'default_pass', arg: 'PASS',
    description: "That user's password",
    parse: str, showDefault: str,
  },
  defaultVhost: {
    key: 'defaultVhost', flag: 'default-vhost', env: 'WARREN_DEFAULT_VHOST', configKey: 'default_vhost', arg: 'VHOST',
    description: 'The virtual host that exists at startup',
    parse: nonEmpty, showDefault: str,
  },
  loopbackUsers: {
    key: 'loopbackUsers', flag: 'loopback-users', env: 'WARREN_LOOPBACK_USERS', configKey: 'loopback_users', arg: 'USERS',
    description: 'Users who may only connect from localhost (comma-separated, or none)',
    parse: parseUserList, showDefault: (v) => (v.length === 0 ? 'none' : v.join(',')),
  },
  heartbeat: {
    key: 'heartbeat', flag: 'heartbeat', env: 'WARREN_HEARTBEAT', configKey: 'heartbeat', arg: 'SECONDS',
    description: 'Heartbeat interval the server proposes; 0 turns heartbeats off',
    parse: integer(0, 65535), showDefault: num,
  },
  frameMax: {
    key: 'frameMax', flag: 'frame-max', env: 'WARREN_FRAME_MAX', configKey: 'frame_max', arg: 'BYTES',
    description: `Largest frame, at least ${FRAME_MIN_SIZE}`,
    parse: integer(FRAME_MIN_SIZE, 4294967295), showDefault: num,
  },
  channelMax: {
    key: 'channelMax', flag: 'channel-max', env: 'WARREN_CHANNEL_MAX', configKey: 'channel_max', arg: 'N',
    description: 'Highest channel number a client may open; 0 means 65535',
    parse: parseChannelMax, showDefault: num,
  },
  handshakeTimeout: {
    key: 'handshakeTimeout', flag: 'handshake-timeout', env: 'WARREN_HANDSHAKE_TIMEOUT', configKey: 'handshake_timeout',
    arg: 'MS', description: 'Drop a connection not open within this many milliseconds',
    parse: integer(1, 3600000), showDefault: num,
  },
  maxMessageSize: {
    key: 'maxMessageSize', flag: 'max-message-size', env: 'WARREN_MAX_MESSAGE_SIZE', configKey: 'max_message_size',
    arg: 'BYTES',
    description: `Largest message body, at most ${MAX_MESSAGE_SIZE_LIMIT} (512 MiB)`,
    parse: integer(1, MAX_MESSAGE_SIZE_LIMIT), showDefault: num,
  },
  tlsPort: {
    key: 'tlsPort', flag: 'tls-port', env: 'WARREN_TLS_PORT', configKey: 'listeners.ssl.default', arg: 'PORT',
    description: 'TLS (amqps) port, usually 5671; 0 picks a free one. Off unless set',
    parse: parsePort, showDefault: (v) => (v === undefined ? 'off' : String(v)),
  },
  tlsCert: {
    key: 'tlsCert', flag: 'tls-cert', env: 'WARREN_TLS_CERT', configKey: 'ssl_options.certfile', arg: 'FILE',
    description: 'Server certificate (chain), PEM',
    parse: nonEmpty, showDefault: shownFile,
  },
  tlsKey: {
    key: 'tlsKey', flag: 'tls-key', env: 'WARREN_TLS_KEY', configKey: 'ssl_options.keyfile', arg: 'FILE',
    description: "The certificate's private key, PEM",
    parse: nonEmpty, showDefault: shownFile,
  },
  tlsCa: {
    key: 'tlsCa', flag: 'tls-ca', env: 'WARREN_TLS_CA', configKey: 'ssl_options.cacertfile', arg: 'FILE',
    description: 'CA certificate(s) that client certificates must chain to, PEM',
    parse: nonEmpty, showDefault: shownFile,
  },
  tlsVerifyPeer: {
    key: 'tlsVerifyPeer', flag: 'tls-verify-peer', env: 'WARREN_TLS_VERIFY_PEER', configKey: 'ssl_options.verify',
    description: 'Ask TLS clients for a certificate, refuse invalid ones (verify_peer)',
    parse: parseBoolean, showDefault: (v) => String(v),
  },
  tlsFailIfNoPeerCert: {
    key: 'tlsFailIfNoPeerCert', flag: 'tls-fail-if-no-peer-cert', env: 'WARREN_TLS_FAIL_IF_NO_PEER_CERT',
    configKey: 'ssl_options.fail_if_no_peer_cert',
    description: 'With --tls-verify-peer, also refuse clients without a certificate',
    parse: parseBoolean, showDefault: (v) => String(v),
  },
  tlsKeyPassword: {
    key: 'tlsKeyPassword', flag: 'tls-key-password', env: 'WARREN_TLS_KEY_PASSWORD', configKey: 'ssl_options.password',
    arg: 'PASS', description: 'Password of an encrypted private key',
    parse: str, showDefault: (v) => (v === undefined ? 'none' : '(set)'),
  },
};

export const OPTION_LIST: readonly OptionSpec[] = Object.values(OPTIONS) as OptionSpec[];

export const CONFIG_ENV = 'WARREN_CONFIG';

/** Parse one textual value for an option, naming its source (`--port`, `WARREN_PORT`, a file key) on failure. */
export function parseOptionValue<K extends ConfigKey>(spec: OptionSpec<K>, raw: string, source: string): BrokerConfig[K] {
  try {
    return spec.parse(raw);
  } catch (err) {
    throw new CliError(`${source}: ${JSON.stringify(raw)} ${(err as Error).message}`);
  }
}

function set(out: Partial<BrokerConfig>, key: ConfigKey, value: unknown): void {
  (out as Record<string, unknown>)[key] = value;
}

// ------------------------------------------------------------------ the sources

export interface ParsedFlags {
  readonly values: Partial<BrokerConfig>;
  readonly configFile: string | undefined;
  readonly help: boolean;
  readonly version: boolean;
}

export function parseFlags(argv: readonly string[]): ParsedFlags {
  const options: NonNullable<ParseArgsConfig['options']> = {
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
  };
  for (const spec of OPTION_LIST) options[spec.flag] = { type: spec.arg === undefined ? 'boolean' : 'string' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false, allowNegative: true });
  } catch (err) {
    throw new CliError(flagErrorMessage(err as Error & { code?: string }));
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const values: Partial<BrokerConfig> = {};
  for (const spec of OPTION_LIST) {
    const raw = v[spec.flag];
    if (raw === undefined) continue;
    if (typeof raw === 'boolean') {
      if (spec.arg !== undefined) throw new CliError(`--${spec.flag} needs a value (${spec.arg})`);
      set(values, spec.key, raw);
    } else {
      set(values, spec.key, parseOptionValue(spec, raw, `--${spec.flag}`));
    }
  }
  for (const name of ['help', 'version']) {
    // --no-help is accepted by allowNegative; it is meaningless, so refuse it like any unknown flag.
    if (v[name] === false) throw new CliError(`unknown option '--no-${name}' (see warren --help)`);
  }
  if (typeof v.config === 'string' && v.config === '') throw new CliError('--config: needs a file name');
  return {
    values,
    configFile: typeof v.config === 'string' ? v.config : undefined,
    help: v.help === true,
    version: v.version === true,
  };
}

/** parseArgs' messages are long and mention positional arguments; say what went wrong in one line. */
function flagErrorMessage(err: Error & { code?: string }): string {
  const quoted = /'(-[^' ]*)/.exec(err.message)?.[1];
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option '${quoted ?? err.message}' (see warren --help)`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': {
      const arg = /'([^']*)'/.exec(err.message)?.[1];
      return `unexpected argument '${arg ?? err.message}' (options start with --; see warren --help)`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/argument missing/.test(err.message) || /ambiguous/.test(err.message)) return `${quoted ?? 'option'}: needs a value`;
      if (/does not take an argument/.test(err.message)) return `${quoted ?? 'option'}: takes no value`;
      return err.message;
    default:
      return err.message;
  }
}

export interface EnvValues {
  readonly values: Partial<BrokerConfig>;
  readonly configFile: string | undefined;
}

/** WARREN_* variables. An empty variable counts as unset (shells and compose files leave them empty). */
export function readEnv(env: Readonly<Record<string, string | undefined>>): EnvValues {
  const values: Partial<BrokerConfig> = {};
  for (const spec of OPTION_LIST) {
    const raw = env[spec.env];
    if (raw === undefined || raw === '') continue;
    set(values, spec.key, parseOptionValue(spec, raw, spec.env));
  }
  const configFile = env[CONFIG_ENV];
  return { values, configFile: configFile === undefined || configFile === '' ? undefined : configFile };
}

/** Later layers win; unset fields fall back to RabbitMQ's defaults. */
export function mergeConfig(...layers: ReadonlyArray<Partial<BrokerConfig>>): BrokerConfig {
  const config: BrokerConfig = { ...DEFAULT_CONFIG, loopbackUsers: [...DEFAULT_CONFIG.loopbackUsers] };
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) if (value !== undefined) set(config, key as ConfigKey, value);
  }
  return config;
}

export type CliCommand =
  | { readonly action: 'help' }
  | { readonly action: 'version' }
  | { readonly action: 'run'; readonly config: BrokerConfig; readonly configFile: string | undefined };

/** Loads and validates a config file; throws CliError. */
export type ConfigFileLoader = (file: string) => Partial<BrokerConfig>;

/**
 * The whole command line: flags > environment > config file (--config, else WARREN_CONFIG) > defaults.
 * --help and --version win over everything and ignore the environment.
 */
export function parseCommandLine(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  loadConfigFile: ConfigFileLoader,
): CliCommand {
  const flags = parseFlags(argv);
  if (flags.help) return { action: 'help' };
  if (flags.version) return { action: 'version' };
  const fromEnv = readEnv(env);
  const configFile = flags.configFile ?? fromEnv.configFile;
  const fromFile = configFile === undefined ? {} : loadConfigFile(configFile);
  return { action: 'run', config: mergeConfig(fromFile, fromEnv.values, flags.values), configFile };
}

/**
 * TLS settings that cannot work together, named as the user wrote them (main checks the merged config;
 * the broker checks again, in its own words, for the embedding API). RabbitMQ refuses these too: an SSL
 * listener without certfile and keyfile, and fail_if_no_peer_cert with verify_none (Erlang's ssl calls
 * those options incompatible).
 */
export function checkTlsOptions(config: BrokerConfig): void {
  switch (tlsSettingsProblem(config)) {
    case 'no certificate or key':
      throw new CliError('--tls-port needs --tls-cert and --tls-key (ssl_options.certfile and ssl_options.keyfile)');
    case 'fail_if_no_peer_cert without verify_peer':
      throw new CliError('--tls-fail-if-no-peer-cert needs --tls-verify-peer (ssl_options.verify = verify_peer)');
    default:
  }
}
