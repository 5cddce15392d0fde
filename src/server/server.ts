/**
 * The TCP listener(s) and the registry of open connections. `0.0.0.0`/`::` listen dual-stack on `::`
 * (IPv4 clients arrive as v4-mapped addresses); `localhost` listens on both 127.0.0.1 and ::1, so
 * clients reach the broker as `127.0.0.1`, `localhost` or `[::1]`. With TLS configured, amqps listeners
 * sit on the same addresses; a TLS socket joins the same accept path once its handshake is done.
 */
import net from 'node:net';
import type tls from 'node:tls';
import type { Logger } from 'winston';
import type { Broker } from '../broker/broker.js';
import type { BrokerConfig } from '../config.js';
import { Connection } from './connection.js';
import { formatPeer } from './peer-address.js';
import type { ServerContext } from './server-context.js';
import { nodeTls, type TlsSettings } from './tls-settings.js';

/** How long close() waits for clients to answer connection.close before dropping their sockets. */
const SHUTDOWN_GRACE_MS = 2000;

export class Server implements ServerContext {
  readonly users: ReadonlyMap<string, string>;
  private readonly listeners: net.Server[] = [];
  private readonly connections = new Set<Connection>();
  private readonly closeWaiters: Array<() => void> = [];
  /** TCP sockets of TLS peers still in their handshake, with their address for the log. */
  private readonly handshaking = new Map<net.Socket, string>();
  private nextConnectionId = 1;
  private boundPort = 0;
  private boundTlsPort: number | undefined;
  private closing = false;

  constructor(
    readonly broker: Broker,
    readonly config: Readonly<BrokerConfig>,
    readonly log: Logger,
    readonly version: string,
    private readonly tlsSettings?: TlsSettings,
  ) {
    this.users = new Map([[config.defaultUser, config.defaultPass]]);
  }

  get port(): number {
    return this.boundPort;
  }

  /** The amqps listener's port; undefined without TLS. */
  get tlsPort(): number | undefined {
    return this.boundTlsPort;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async listen(): Promise<void> {
    try {
      this.boundPort = await this.listenAll(this.config.port, () => this.plainServer());
      const tlsSettings = this.tlsSettings;
      if (tlsSettings !== undefined) this.boundTlsPort = await this.listenAll(tlsSettings.port, () => this.tlsServer(tlsSettings));
    } catch (err) {
      // The plain listener is up when the TLS one fails (its port in use): leave nothing behind.
      await Promise.all(this.listeners.splice(0).map((l) => new Promise<void>((r) => l.close(() => r()))));
      throw err;
    }
  }

  /** Listen on the configured host(s); resolves with the bound port. */
  private async listenAll(port: number, create: () => net.Server): Promise<number> {
    const { host } = this.config;
    if (host === '0.0.0.0' || host === '::') {
      try {
        return await this.listenOn(create(), '::', port, false);
      } catch (err) {
        // No IPv6 on this machine: IPv4 only.
        if ((err as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT' && (err as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL') throw err;
        return await this.listenOn(create(), '0.0.0.0', port, false);
      }
    } else if (host === 'localhost') {
      const bound = await this.listenOn(create(), '127.0.0.1', port, false);
      try {
        await this.listenOn(create(), '::1', bound, true);
      } catch (err) {
        this.log.debug(`not listening on ::1: ${(err as Error).message}`);
      }
      return bound;
    } else {
      return await this.listenOn(create(), host, port, false);
    }
  }

  private listenOn(server: net.Server, host: string, port: number, ipv6Only: boolean): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        server.close();
        reject(err);
      };
      server.once('error', onError);
      server.listen({ host, port, ipv6Only, exclusive: true }, () => {
        server.off('error', onError);
        server.on('error', (err) => this.log.error(`listener error: ${err.message}`));
        const address = server.address();
        this.listeners.push(server);
        resolve(address !== null && typeof address === 'object' ? address.port : port);
      });
    });
  }

  private plainServer(): net.Server {
    return net.createServer({ noDelay: true }, (socket) => this.accept(socket));
  }

  /**
   * An amqps listener. Node verifies a client certificate only after the handshake; with
   * fail_if_no_peer_cert, rejectUnauthorized also makes OpenSSL itself refuse a client that sends none,
   * with a TLS alert, as Erlang's ssl does. Without it, a client may come without a certificate, and one
   * whose certificate does not verify is dropped here (RabbitMQ's verify_peer).
   */
  private tlsServer(settings: TlsSettings): tls.Server {
    const server = nodeTls().createServer({
      ...settings.contextOptions,
      requestCert: settings.verifyPeer,
      rejectUnauthorized: settings.verifyPeer && settings.failIfNoPeerCert,
      // config.handshakeTimeout covers the TLS handshake; the AMQP handshake then gets its own, as
      // RabbitMQ's ssl_handshake_timeout and handshake_timeout are separate.
      handshakeTimeout: this.config.handshakeTimeout,
      noDelay: true,
    });
    server.on('connection', (raw: net.Socket) => this.tlsConnecting(raw));
    server.on('secureConnection', (socket: tls.TLSSocket) => this.tlsConnected(socket, settings));
    server.on('tlsClientError', (err: Error & { code?: string }, socket: tls.TLSSocket) => this.tlsFailed(err, socket));
    return server;
  }

  private tlsConnecting(raw: net.Socket): void {
    // Read now: once the socket is closed, its address is gone.
    const peer = formatPeer(raw.remoteAddress, raw.remotePort);
    this.handshaking.set(raw, peer);
    // Its errors reach the TLS socket too (tlsClientError); here they must only not go unhandled.
    raw.on('error', () => undefined);
    raw.once('close', () => {
      // A peer that hangs up is reported by tlsClientError right after this event: let that come first.
      setImmediate(() => {
        if (!this.handshaking.delete(raw)) return;
        // Neither secureConnection nor tlsClientError: Node dropped a client whose certificate did not verify
        // (with fail_if_no_peer_cert), or the peer left without a word.
        this.log.info('TLS connection closed during the handshake (client certificate refused, or the peer left)', { peer });
      });
    });
  }

  /**
   * The TCP socket under a server-side TLS socket. Node keeps it as `_parent` and has no public accessor;
   * should that change, the address still finds it while the socket is open.
   */
  private handshakeSocket(socket: tls.TLSSocket): net.Socket | undefined {
    const parent = (socket as unknown as { _parent?: unknown })._parent;
    if (parent instanceof net.Socket && this.handshaking.has(parent)) return parent;
    if (socket.remotePort === undefined) return undefined;
    for (const raw of this.handshaking.keys()) {
      if (raw.remotePort === socket.remotePort && raw.remoteAddress === socket.remoteAddress) return raw;
    }
    return undefined;
  }

  private tlsConnected(socket: tls.TLSSocket, settings: TlsSettings): void {
    const raw = this.handshakeSocket(socket);
    if (raw !== undefined) this.handshaking.delete(raw);
    const peer = formatPeer(socket.remoteAddress, socket.remotePort);
    if (this.closing) {
      socket.destroy();
      return;
    }
    const cert = settings.verifyPeer ? socket.getPeerCertificate() : undefined;
    const hasCert = cert !== undefined && Object.keys(cert).length > 0;
    if (settings.verifyPeer && !socket.authorized && hasCert) {
      this.log.info(`TLS client certificate refused: ${String(socket.authorizationError)}`, { peer });
      socket.destroy();
      return;
    }
    const cipher = socket.getCipher() as tls.CipherNameAndProtocol | null;
    this.accept(socket, {
      tls: socket.getProtocol() ?? 'unknown',
      cipher: cipher?.name,
      clientCert: hasCert ? String(cert.subject.CN) : undefined,
    });
  }

  /**
   * A handshake that failed: plain AMQP on the TLS port, a client that does not trust our certificate, no
   * client certificate where one is required, a peer that left or stayed silent past the handshake timeout.
   * Only that socket is affected.
   */
  private tlsFailed(err: Error & { code?: string; reason?: string }, socket: tls.TLSSocket): void {
    const raw = this.handshakeSocket(socket);
    const peer = raw === undefined ? formatPeer(socket.remoteAddress, socket.remotePort) : this.handshaking.get(raw);
    if (raw !== undefined) this.handshaking.delete(raw);
    if (socket.authorizationError) {
      // fail_if_no_peer_cert mode: Node verified the client's certificate after the handshake and dropped it.
      this.log.info(`TLS client certificate refused: ${String(socket.authorizationError)}`, { peer });
    } else if (err.code === 'ECONNRESET' || err.code === 'EPIPE') {
      // Also how a client that refuses our certificate leaves: Node's client closes without an alert.
      this.log.info(`TLS handshake failed: the client closed the connection (${err.message})`, { peer });
    } else {
      const hint = err.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || err.code === 'ERR_SSL_HTTP_REQUEST'
        ? ' (not TLS: a plain AMQP client on the TLS port?)' : '';
      this.log.info(`TLS handshake failed: ${err.reason ?? err.message}${hint}`, { peer });
    }
    // Node leaves the socket open after a handshake timeout.
    socket.destroy();
  }

  /** Plain and TLS sockets alike (a TLSSocket is a net.Socket); `tlsInfo` goes on the log line. */
  private accept(socket: net.Socket, tlsInfo?: Record<string, string | undefined>): void {
    const connection = new Connection(socket, this, this.nextConnectionId++);
    this.connections.add(connection);
    if (tlsInfo === undefined) connection.log.info('connection accepted');
    else connection.log.info('connection accepted', tlsInfo);
  }

  connectionClosed(connection: Connection): void {
    this.connections.delete(connection);
    if (this.connections.size === 0) for (const w of this.closeWaiters.splice(0)) w();
  }

  /** Stop listening, close every connection with 320 CONNECTION_FORCED, wait until they are gone. */
  async close(reason = 'shutdown'): Promise<void> {
    this.closing = true;
    // net.Server.close() calls back only once every accepted socket is gone, so close clients first.
    const stopped = Promise.all(this.listeners.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
    // A TLS peer in its handshake has no AMQP connection to close politely.
    for (const raw of this.handshaking.keys()) raw.destroy();
    this.handshaking.clear();
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
