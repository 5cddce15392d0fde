/**
 * The `warren` command (bin/warren): parse the command line, start a Warren, print one startup line,
 * and shut down gracefully on SIGTERM/SIGINT. Exit status 0 after a clean shutdown, 1 with a one-line
 * reason on stderr for anything that stops it from starting.
 */
import path from 'node:path';
import type { Logger } from 'winston';
import type { BrokerConfig } from '../config.js';
import { createLogger } from '../log.js';
import { TlsSetupError } from '../server/tls-settings.js';
import { StoreError } from '../store/store.js';
import { VERSION } from '../version.js';
import { Warren } from '../warren.js';
import { checkTlsOptions, CliError, parseCommandLine } from './args.js';
import { loadConfigFile } from './config-file.js';
import { helpText } from './help.js';
import { lowerHelperThreadPriority } from './helper-thread-priority.js';

/**
 * A repeat of the first signal this soon is the same request delivered twice, not a second one: a
 * terminal's Ctrl-C reaches the whole process group, and a wrapper that forwards signals to its child
 * (npm's script runner does) delivers it again.
 */
const DUPLICATE_SIGNAL_MS = 250;
/** Exit even if some handle keeps the event loop alive after a clean close. */
const EXIT_GRACE_MS = 3000;

type Signal = 'SIGTERM' | 'SIGINT';

export async function main(
  argv: readonly string[] = process.argv.slice(2),
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<void> {
  let config: BrokerConfig;
  try {
    const command = parseCommandLine(argv, env, loadConfigFile);
    if (command.action === 'help') {
      process.stdout.write(helpText(VERSION));
      return;
    }
    if (command.action === 'version') {
      process.stdout.write(`${VERSION}\n`);
      return;
    }
    config = command.config;
    checkTlsOptions(config);
  } catch (err) {
    return fail(err instanceof CliError ? err.message : String(err));
  }

  const log = createLogger(config.logLevel, config.logFormat);
  const reniced = lowerHelperThreadPriority();
  if (reniced > 0) log.debug(`helper threads (${reniced}) run at a lower priority than the main thread`);
  const shutdown = new Shutdown(log);
  shutdown.install();

  let warren: Warren;
  try {
    warren = await Warren.start({ ...config, logger: log });
  } catch (err) {
    return fail(startupFailure(err, config));
  }
  const data = config.store === 'memory' ? 'memory' : path.resolve(config.dataDir);
  const tls = warren.tlsPort === undefined ? '' : ` and ${listenerUrl(config.host, warren.tlsPort, 'amqps')}`;
  log.info(`Warren ${VERSION} listening on ${listenerUrl(config.host, warren.port)}${tls}, data in ${data}`);
  shutdown.ready(warren);
}

/** SIGTERM/SIGINT: close once (waiting for a startup in progress); a second, distinct signal exits now. */
class Shutdown {
  private warren: Warren | undefined;
  private first: { signal: Signal; at: number } | undefined;

  constructor(private readonly log: Logger) {}

  install(): void {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => this.onSignal(signal));
  }

  ready(warren: Warren): void {
    this.warren = warren;
    if (this.first !== undefined) this.stop(warren);
  }

  private onSignal(signal: Signal): void {
    const first = this.first;
    if (first === undefined) {
      this.first = { signal, at: Date.now() };
      this.log.info(`received ${signal}, shutting down`);
      if (this.warren !== undefined) this.stop(this.warren);
      return;
    }
    if (signal === first.signal && Date.now() - first.at < DUPLICATE_SIGNAL_MS) return;
    fail(`${signal} during shutdown, exiting without waiting for it to finish`);
  }

  private stop(warren: Warren): void {
    warren.close().then(
      () => {
        this.log.info('stopped');
        process.exitCode = 0;
        // Normally the process ends by itself here; this only guards against a stray handle.
        setTimeout(() => process.exit(0), EXIT_GRACE_MS).unref();
      },
      (err: unknown) => fail(`shutdown failed: ${err instanceof Error ? err.message : String(err)}`),
    );
  }
}

/** One line on stderr, exit status 1. stderr writes to files, pipes and terminals are synchronous on POSIX. */
function fail(reason: string): never {
  process.stderr.write(`warren: ${reason.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exit(1);
}

function startupFailure(err: unknown, config: BrokerConfig): string {
  if (err instanceof StoreError || err instanceof TlsSetupError) return err.message;
  const e = err as NodeJS.ErrnoException & { port?: unknown };
  // The error names the port that failed: the plain one or the TLS one.
  const port = typeof e.port === 'number' ? e.port : config.port;
  const scheme = port === config.tlsPort && port !== config.port ? 'amqps' : 'amqp';
  switch (e.code) {
    case 'EADDRINUSE':
      return `port ${port} on ${config.host} is already in use`;
    case 'EACCES':
      return `no permission to listen on ${listenerUrl(config.host, port, scheme)} (ports below 1024 need privileges)`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${config.host}: not an address of this machine`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve host ${config.host}`;
    default:
      return `cannot start: ${e instanceof Error ? e.message : String(err)}`;
  }
}

export function listenerUrl(host: string, port: number, scheme: 'amqp' | 'amqps' = 'amqp'): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
