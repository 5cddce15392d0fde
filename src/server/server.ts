/**
 * The TCP listener(s) and the registry of open connections. `0.0.0.0`/`::` listen dual-stack on `::`
 * (IPv4 clients arrive as v4-mapped addresses); `localhost` listens on both 127.0.0.1 and ::1, so
 * clients reach the broker as `127.0.0.1`, `localhost` or `[::1]`.
 */
import net from 'node:net';
import type { Logger } from 'winston';
import type { Broker } from '../broker/broker.js';
import type { BrokerConfig } from '../config.js';
import { Connection } from './connection.js';
import type { ServerContext } from './server-context.js';

/** How long close() waits for clients to answer connection.close before dropping their sockets. */
const SHUTDOWN_GRACE_MS = 2000;

export class Server implements ServerContext {
  readonly users: ReadonlyMap<string, string>;
  private readonly listeners: net.Server[] = [];
  private readonly connections = new Set<Connection>();
  private readonly closeWaiters: Array<() => void> = [];
  private nextConnectionId = 1;
  private boundPort = 0;

  constructor(
    readonly broker: Broker,
    readonly config: Readonly<BrokerConfig>,
    readonly log: Logger,
    readonly version: string,
  ) {
    this.users = new Map([[config.defaultUser, config.defaultPass]]);
  }

  get port(): number {
    return this.boundPort;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async listen(): Promise<void> {
    const { host, port } = this.config;
    if (host === '0.0.0.0' || host === '::') {
      try {
        await this.listenOn('::', port, false);
      } catch (err) {
        // No IPv6 on this machine: IPv4 only.
        if ((err as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT' && (err as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL') throw err;
        await this.listenOn('0.0.0.0', port, false);
      }
    } else if (host === 'localhost') {
      await this.listenOn('127.0.0.1', port, false);
      try {
        await this.listenOn('::1', this.boundPort, true);
      } catch (err) {
        this.log.debug(`not listening on ::1: ${(err as Error).message}`);
      }
    } else {
      await this.listenOn(host, port, false);
    }
  }

  private listenOn(host: string, port: number, ipv6Only: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
      const onError = (err: Error): void => {
        server.close();
        reject(err);
      };
      server.once('error', onError);
      server.listen({ host, port, ipv6Only, exclusive: true }, () => {
        server.off('error', onError);
        server.on('error', (err) => this.log.error(`listener error: ${err.message}`));
        const address = server.address();
        if (address !== null && typeof address === 'object') this.boundPort = address.port;
        this.listeners.push(server);
        resolve();
      });
    });
  }

  private accept(socket: net.Socket): void {
    const connection = new Connection(socket, this, this.nextConnectionId++);
    this.connections.add(connection);
    connection.log.info('connection accepted');
  }

  connectionClosed(connection: Connection): void {
    this.connections.delete(connection);
    if (this.connections.size === 0) for (const w of this.closeWaiters.splice(0)) w();
  }

  /** Stop listening, close every connection with 320 CONNECTION_FORCED, wait until they are gone. */
  async close(reason = 'shutdown'): Promise<void> {
    // net.Server.close() calls back only once every accepted socket is gone, so close clients first.
    const stopped = Promise.all(this.listeners.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
    if (this.connections.size > 0) {
      const gone = new Promise<void>((r) => this.closeWaiters.push(r));
      for (const c of this.connections) c.forceClose(reason);
      const timer = setTimeout(() => {
        for (const c of this.connections) c.socket.destroy();
      }, SHUTDOWN_GRACE_MS);
      await gone;
      clearTimeout(timer);
    }
    await stopped;
  }
}
