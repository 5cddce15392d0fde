/** `warren --help`: every option with its environment variable, config file key and default. */
import { DEFAULT_CONFIG } from '../config.js';
import { CONFIG_ENV, OPTION_LIST, type OptionSpec } from './args.js';

const FLAG_WIDTH = 28;
const LINE_WIDTH = 100;

function flagText(spec: OptionSpec): string {
  return spec.arg === undefined ? `--${spec.flag}, --no-${spec.flag}` : `--${spec.flag} ${spec.arg}`;
}

function row(flag: string, description: string, details: string | undefined): string {
  const pad = ' '.repeat(FLAG_WIDTH);
  const head = flag.length + 2 < FLAG_WIDTH ? `  ${flag}`.padEnd(FLAG_WIDTH) + description : `  ${flag}\n${pad}${description}`;
  return details === undefined ? head : `${head}\n${wrap(details, pad)}`;
}

/** Indent text, breaking it after a comma where a line would pass LINE_WIDTH (the long TLS option names). */
function wrap(text: string, pad: string): string {
  const lines: string[] = [];
  let line = '';
  for (const part of text.split(/(?<=,) /)) {
    if (line !== '' && pad.length + line.length + 1 + part.length > LINE_WIDTH) {
      lines.push(pad + line);
      line = part;
    } else {
      line = line === '' ? part : `${line} ${part}`;
    }
  }
  lines.push(pad + line);
  return lines.join('\n');
}

export function helpText(version: string): string {
  const lines = [
    'Usage: warren [options]',
    '',
    `Warren ${version}: an AMQP 0-9-1 message broker that RabbitMQ clients connect to unchanged.`,
    '',
    'Options. Each can also be set by its environment variable or config file key;',
    'a flag beats the environment, which beats the config file, which beats the default.',
    '',
  ];
  for (const spec of OPTION_LIST) {
    const shown = spec.showDefault(DEFAULT_CONFIG[spec.key]);
    lines.push(row(flagText(spec), spec.description, `env ${spec.env}, config ${spec.configKey}, default ${shown === '' ? '""' : shown}`));
  }
  lines.push(
    row('--config FILE', 'JSON config file with rabbitmq.conf keys (see the README)', `env ${CONFIG_ENV}`),
    row('-h, --help', 'Print this help and exit', undefined),
    row('-v, --version', 'Print the version and exit', undefined),
    '',
    'Config file (JSON; RabbitMQ\'s rabbitmq.conf keys, flat "a.b.c" or nested): listeners.tcp.default',
    '(PORT or HOST:PORT), default_user, default_pass, default_vhost, loopback_users (a list or "none"),',
    'loopback_users.<user> (true|false), heartbeat, frame_max, channel_max, max_message_size,',
    'log.console.level or log.default.level (RabbitMQ\'s levels), log.console.formatter (plaintext|json),',
    'listeners.ssl.default (PORT), ssl_options.certfile, ssl_options.keyfile, ssl_options.cacertfile',
    '(files relative to the config file), ssl_options.verify (verify_peer|verify_none),',
    'ssl_options.fail_if_no_peer_cert, ssl_options.password;',
    'Warren\'s own: data_dir (relative to the file), store, fsync. Unknown keys are errors.',
    '',
    'SIGTERM or SIGINT shuts down gracefully: clients get 320 CONNECTION_FORCED, pending writes are',
    'flushed. A second signal exits at once.',
    'Exit status: 0 after a clean shutdown; 1 on a bad option or config file, a port in use, a locked',
    'data directory or any other startup failure, with the reason on stderr.',
    '',
  );
  return lines.join('\n');
}
