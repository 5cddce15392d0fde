/**
 * One client connection: the handshake (AMQP 0-9-1 §2.2.4), channel 0, heartbeats, frame dispatch to
 * channels, and closing. Errors become replies here: a soft error closes its channel, a hard one the
 * connection (connection.close, then wait for close-ok); anything that is not an AmqpError is a bug:
 * logged with its stack, answered with 541, and only this connection goes.
 *
 * A handler may suspend the connection's input (SuspendInput, thrown out of the parser's push()): the
 * socket is paused, the parser keeps the bytes after the suspended frame, and once the handler's wait is
 * over it runs again and parsing resumes from those bytes, so frames are still handled in order.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'winston';
import type { ConnectionOwner } from '../broker/consumer.js';
import type { VirtualHost } from '../broker/vhost.js';
import {
  AmqpError, channelError, commandInvalid, internalError, notAllowed, notImplemented, unexpectedFrame,
} from '../errors.js';
import { FrameParser, type FrameHandler } from '../protocol/frame-parser.js';
import { FrameWriter } from '../protocol/frame-writer.js';
import { FRAME_MIN_SIZE, FrameType, ReplyCode } from '../protocol/generated/constants.js';
import { type Method, MethodId, decodeMethod, methodName } from '../protocol/generated/methods.js';
import type { FieldTable } from '../types/field-table.js';
import { fieldBoolean } from '../types/field-table.js';
import { authenticate, type Credentials } from './auth.js';
import { Channel, type ChannelHost } from './channel.js';
import type { ServerContext } from './server-context.js';
import { serverProperties } from './server-properties.js';
import { formatPeer, isLoopback } from './peer-address.js';
import { SuspendInput } from './suspend.js';

export const PROTOCOL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);

/** Stop handing deliveries to the writer past this many unflushed bytes; resume after the flush. */
const OUTBOUND_HIGH_WATER = 512 * 1024;
/** How long to wait for close-ok after sending connection.close (RabbitMQ waits too, then drops). */
const CLOSE_OK_TIMEOUT_MS = 5000;

const NO_BYTES = Buffer.alloc(0);

/** A handler waiting (SuspendInput) and where it ran, so its retry is handled like the first run. */
interface Suspension {
  readonly input: SuspendInput;
  readonly channel: Channel;
  readonly method: Method | undefined;
}

type ConnectionState = 'header' | 'start' | 'tune' | 'open-wait' | 'open' | 'closing' | 'closed';

export class Connection implements FrameHandler, ChannelHost {
  readonly owner: ConnectionOwner = this;
  readonly writer: FrameWriter;
  readonly log: Logger;
  state: ConnectionState = 'header';
  vhost!: VirtualHost;
  username = '';
  clientProperties: FieldTable = new Map();
  consumerCancelNotify = false;
  readonly maxMessageSize: number;

  private readonly parser: FrameParser;
  private readonly channels = new Map<number, Channel>();
  private channelMax: number;
  private heartbeatSeconds = 0;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private receivedSinceTick = true;
  private sentSinceTick = true;
  private silentTicks = 0;
  private flushScheduled = false;
  /** The client sent connection.close and got close-ok; the socket is left for it to close. */
  private closedByClient = false;
  private socketBlocked = false;
  private storeBlocked = false;
  private deliveryStalled = false;
  /** Input is suspended: no frame is handled until this handler's retry has run. */
  private suspension: Suspension | null = null;
  /** Chunks that arrived while suspended (after pause(), only what was already on its way). */
  private heldChunks: Buffer[] = [];
  private readonly confirmChannels = new Set<Channel>();
  private readonly flushNow = (): void => this.flush();

  constructor(
    readonly socket: Socket,
    readonly context: ServerContext,
    readonly id: number,
  ) {
    const config = context.config;
    this.log = context.log.child({ connection: id, peer: formatPeer(socket.remoteAddress, socket.remotePort) });
    this.maxMessageSize = config.maxMessageSize;
    this.channelMax = config.channelMax;
    this.parser = new FrameParser(this, config.frameMax);
    this.writer = new FrameWriter(socket, config.frameMax);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', (err) => this.log.debug(`socket error: ${err.message}`));
    socket.on('close', () => this.onSocketClosed());
    // RabbitMQ's handshake_timeout: a peer that connects and never opens a connection is dropped.
    this.handshakeTimer = setTimeout(() => {
      this.log.warn(`closing connection: handshake not completed within ${config.handshakeTimeout} ms`);
      this.socket.destroy();
    }, config.handshakeTimeout);
  }

  // ------------------------------------------------------------------ ChannelHost

  canDeliver(): boolean {
    if (!this.socketBlocked && this.writer.pendingBytes < OUTBOUND_HIGH_WATER) return true;
    this.deliveryStalled = true;
    return false;
  }

  wrote(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flushNow);
  }

  confirmsPending(channel: Channel): void {
    this.confirmChannels.add(channel);
    this.wrote();
  }

  released(channel: Channel): void {
    if (this.channels.get(channel.number) === channel) this.channels.delete(channel.number);
  }

  // ------------------------------------------------------------------ socket

  private onData(chunk: Buffer): void {
    this.receivedSinceTick = true;
    if (this.suspension !== null || this.heldChunks.length > 0) {
      // Suspended, or held bytes not yet parsed (continueInput is due): keep the order.
      this.heldChunks.push(chunk);
      return;
    }
    this.parse(chunk);
    this.checkStoreBacklog();
  }

  /** Feed the parser; a handler that suspends input stops it (the rest stays pending in the parser). */
  private parse(chunk: Buffer): void {
    try {
      this.parser.push(chunk);
    } catch (err) {
      if (err instanceof SuspendInput && this.suspension !== null) this.suspend(this.suspension);
      else this.handleError(err, 0, undefined);
    }
  }

  private checkStoreBacklog(): void {
    const persistence = this.vhost?.persistence;
    if (persistence?.overloaded && !this.storeBlocked) {
      // Backpressure: the store is behind, so stop reading this publisher until it catches up.
      this.storeBlocked = true;
      this.socket.pause();
      persistence.afterCommit(() => {
        this.storeBlocked = false;
        this.resumeReading();
      });
    }
  }

  /** Resume the socket unless something else still holds it paused. */
  private resumeReading(): void {
    if (!this.socketBlocked && !this.storeBlocked && this.suspension === null && this.state !== 'closed') this.socket.resume();
  }

  // ------------------------------------------------------------------ suspended input (SuspendInput)

  private suspend(s: Suspension): void {
    this.socket.pause();
    s.input.wait(() => this.retrySuspended(s));
  }

  /** The suspended handler may go on: run it again, then parse what is pending behind it. */
  private retrySuspended(s: Suspension): void {
    if (this.suspension !== s) return; // cancelled (the connection is closing or closed)
    this.suspension = null;
    if (this.state === 'open' && s.channel.state === 'open' && this.channels.get(s.channel.number) === s.channel) {
      try {
        try {
          s.input.retry();
        } catch (err) {
          this.channelFailed(s.channel, err, s.method);
        }
      } catch (err) {
        if (err instanceof SuspendInput && this.suspension !== null) {
          this.suspend(this.suspension);
          return;
        }
        this.handleError(err, s.channel.number, s.method);
      }
    }
    // Not synchronously: this runs inside the queue's read-back completion.
    setImmediate(this.continueInput);
  }

  /** Parse the bytes held back while suspended, then read the socket again. */
  private readonly continueInput = (): void => {
    if (this.suspension !== null || this.state === 'closed') return;
    this.parse(NO_BYTES);
    while (this.suspension === null && this.heldChunks.length > 0) this.parse(this.heldChunks.shift()!);
    if (this.suspension !== null) return;
    this.checkStoreBacklog();
    this.resumeReading();
  };

  /** Closing: frames behind a suspended handler are read again (close-ok must get through). */
  private cancelSuspension(): void {
    if (this.suspension === null) return;
    this.suspension = null;
    setImmediate(this.continueInput);
  }

  /** Hand the tick's writes to the socket; pause reading while the peer is not reading ours. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.confirmChannels.size > 0) {
      for (const ch of this.confirmChannels) ch.flushConfirms();
      this.confirmChannels.clear();
    }
    if (this.state === 'closed') return;
    this.sentSinceTick = true;
    const ok = this.writer.flush();
    if (!ok && !this.socketBlocked) {
      this.socketBlocked = true;
      // Backpressure: a peer that does not read its confirms and deliveries stops being read from
      // (but a closing connection keeps reading, to see close-ok and the peer's FIN).
      if (this.state !== 'closing') this.socket.pause();
    }
    if (ok && this.deliveryStalled) this.resumeDeliveries();
  }

  private onDrain(): void {
    if (!this.socketBlocked) return;
    this.socketBlocked = false;
    this.resumeReading();
    this.resumeDeliveries();
  }

  private resumeDeliveries(): void {
    this.deliveryStalled = false;
    for (const ch of this.channels.values()) ch.resumeConsumers();
  }

  // ------------------------------------------------------------------ frames

  onProtocolHeader(header: Buffer): void {
    if (!header.equals(PROTOCOL_HEADER)) {
      // §4.2.2: answer with the protocol header we support, then close.
      this.log.info(`refused protocol header ${header.toString('hex')}`);
      this.parser.close();
      this.state = 'closed';
      this.socket.end(PROTOCOL_HEADER);
      return;
    }
    this.state = 'start';
    this.sendMethod(0, {
      id: MethodId.ConnectionStart, versionMajor: 0, versionMinor: 9,
      serverProperties: serverProperties(this.context),
      mechanisms: Buffer.from('AMQPLAIN PLAIN'), locales: Buffer.from('en_US'),
    });
  }

  onFrame(type: number, channel: number, payload: Buffer, owned: boolean): void {
    if (this.state === 'closed') return;
    let method: Method | undefined;
    try {
      if (type === FrameType.Method) {
        method = decodeMethod(payload, 0, payload.length);
        if (method === undefined) {
          const classId = payload.length >= 4 ? payload.readUInt16BE(0) : 0;
          const methodId = payload.length >= 4 ? payload.readUInt16BE(2) : 0;
          throw notImplemented(`unknown method: class ${classId}, method ${methodId}`);
        }
        if (channel === 0) this.onConnectionMethod(method);
        else this.onChannelMethod(channel, method);
      } else if (type === FrameType.Heartbeat) {
        if (channel !== 0) throw unexpectedFrame(`heartbeat frame on channel ${channel}`);
      } else if (channel === 0 || this.state !== 'open') {
        throw unexpectedFrame(`content frame (type ${type}) on channel ${channel}`);
      } else {
        this.onContentFrame(type, channel, payload, owned);
      }
    } catch (err) {
      // Out of the parser's push(): parsing stops after this frame (see parse()).
      if (err instanceof SuspendInput) throw err;
      this.handleError(err, channel, method);
    }
  }

  private onConnectionMethod(m: Method): void {
    if (this.state === 'closing') {
      // Waiting for close-ok: everything else is dropped (§2.2.4 connection close).
      if (m.id === MethodId.ConnectionCloseOk) this.finish();
      else if (m.id === MethodId.ConnectionClose) this.sendMethod(0, { id: MethodId.ConnectionCloseOk });
      return;
    }
    switch (m.id) {
      case MethodId.ConnectionStartOk:
        this.expectState('start');
        return this.onStartOk(m.mechanism, m.response, m.clientProperties);
      case MethodId.ConnectionTuneOk:
        this.expectState('tune');
        return this.onTuneOk(m.channelMax, m.frameMax, m.heartbeat);
      case MethodId.ConnectionOpen:
        this.expectState('open-wait');
        return this.onOpen(m.virtualHost);
      case MethodId.ConnectionClose:
        this.log.debug(`client closed the connection: ${m.replyCode} ${m.replyText}`);
        this.teardownChannels();
        this.state = 'closing';
        this.sendMethod(0, { id: MethodId.ConnectionCloseOk });
        this.flush();
        // Like RabbitMQ (rabbit_reader, state `closed`), leave the socket to the client and answer each
        // further connection.close with close-ok (above): amqp091-go's concurrent Close() sends several
        // and waits for one each. A client that never closes is dropped after the timeout.
        this.closedByClient = true;
        this.socket.resume();
        this.closeTimer ??= setTimeout(() => this.socket.destroy(), CLOSE_OK_TIMEOUT_MS);
        return;
      case MethodId.ConnectionCloseOk:
        return;
      case MethodId.ConnectionUpdateSecret:
        this.expectState('open');
        // RabbitMQ 3.10's internal auth backend accepts any new secret for a password user and answers
        // update-secret-ok (rabbit_reader handle_method0); Warren's users are password users too.
        this.log.info(`user '${this.username}' updated secret, reason: ${m.reason}`);
        this.sendMethod(0, { id: MethodId.ConnectionUpdateSecretOk });
        return;
      default:
        if (this.state !== 'open') throw channelError(`unexpected method in connection state ${this.state}`);
        throw commandInvalid(`unexpected method ${methodName(m.id)} on channel 0`);
    }
  }

  private expectState(state: ConnectionState): void {
    if (this.state !== state) throw channelError(`unexpected method in connection state ${this.state}`);
  }

  private onStartOk(mechanism: string, response: Buffer, clientProperties: FieldTable): void {
    this.clientProperties = clientProperties;
    const caps = clientProperties.get('capabilities');
    const capTable = caps !== undefined && caps.type === 'F' ? caps.value : undefined;
    this.consumerCancelNotify = fieldBoolean(capTable?.get('consumer_cancel_notify')) === true;
    const authFailureClose = fieldBoolean(capTable?.get('authentication_failure_close')) === true;
    const credentials: Credentials = authenticate(mechanism, response, this.context.users);
    if (!credentials.ok) {
      // RabbitMQ 3.10 tells the client only that login failed; the reason goes to the log.
      this.log.warn(`login refused: ${credentials.reason}`);
      return this.refuseLogin(`Login was refused using authentication mechanism ${mechanism}. For details see the broker logfile.`, authFailureClose);
    }
    if (this.context.config.loopbackUsers.includes(credentials.username) && !isLoopback(this.socket.remoteAddress)) {
      return this.refuseLogin(`${mechanism} login refused: user '${credentials.username}' can only connect via localhost`, authFailureClose);
    }
    this.username = credentials.username;
    this.state = 'tune';
    const c = this.context.config;
    this.sendMethod(0, { id: MethodId.ConnectionTune, channelMax: c.channelMax, frameMax: c.frameMax, heartbeat: c.heartbeat });
  }

  /** RabbitMQ closes with 403 for clients with authentication_failure_close, otherwise just drops. */
  private refuseLogin(reason: string, authFailureClose: boolean): void {
    this.log.warn(`login refused: ${reason}`);
    if (!authFailureClose) {
      this.state = 'closed';
      this.socket.destroy();
      return;
    }
    this.closeWith(new AmqpError(ReplyCode.AccessRefused, reason));
  }

  private onTuneOk(channelMax: number, frameMax: number, heartbeat: number): void {
    const c = this.context.config;
    if (frameMax !== 0 && frameMax < FRAME_MIN_SIZE) throw notAllowed(`frame_max=${frameMax} < ${FRAME_MIN_SIZE} min size`);
    if (frameMax > c.frameMax) throw notAllowed(`frame_max=${frameMax} > ${c.frameMax} max size`);
    if (channelMax > c.channelMax) throw notAllowed(`channel_max=${channelMax} > ${c.channelMax} max size`);
    // 0 means "no limit" on the wire; we keep our own limit then, so frames stay bounded.
    const negotiatedFrameMax = frameMax === 0 ? c.frameMax : frameMax;
    this.parser.frameMax = negotiatedFrameMax;
    this.writer.frameMax = negotiatedFrameMax;
    this.channelMax = channelMax === 0 ? c.channelMax : channelMax;
    this.heartbeatSeconds = heartbeat;
    this.state = 'open-wait';
    this.startHeartbeats();
  }

  private onOpen(vhostName: string): void {
    const vhost = this.context.broker.vhost(vhostName);
    if (vhost === undefined) throw notAllowed(`vhost ${vhostName} not found`);
    this.vhost = vhost;
    this.state = 'open';
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    this.sendMethod(0, { id: MethodId.ConnectionOpenOk, knownHosts: '' });
    this.log.info('connection opened', { user: this.username, vhost: vhostName, client: this.clientDescription() });
  }

  private onChannelMethod(number: number, m: Method): void {
    if (this.state === 'closing') return;
    if (this.state !== 'open') throw unexpectedFrame(`method frame on channel ${number} before the connection is open`);
    if (number > this.channelMax) {
      throw notAllowed(`channel number ${number} is above the negotiated channel_max ${this.channelMax}`);
    }
    const ch = this.channels.get(number);
    if (ch === undefined) {
      if (m.id === MethodId.ChannelOpen) {
        const opened = new Channel(this, number, this.log.child({ channel: number }));
        this.channels.set(number, opened);
        this.sendMethod(number, { id: MethodId.ChannelOpenOk, channelId: Buffer.alloc(0) });
      } else if (m.id === MethodId.ChannelClose) {
        this.sendMethod(number, { id: MethodId.ChannelCloseOk });
      } else if (m.id !== MethodId.ChannelCloseOk) {
        throw channelError("expected 'channel.open'");
      }
      return;
    }
    if (ch.state === 'closing') {
      // After our channel.close only close-ok (or a crossing close) counts (§2.2.4 channel close).
      if (m.id === MethodId.ChannelCloseOk) ch.closeOkReceived();
      else if (m.id === MethodId.ChannelClose) {
        this.sendMethod(number, { id: MethodId.ChannelCloseOk });
        ch.closeOkReceived();
      }
      return;
    }
    if (m.id === MethodId.ChannelClose) return ch.closeByClient();
    if (m.id === MethodId.ChannelCloseOk) return;
    if (this.log.isDebugEnabled()) this.log.debug(`${methodName(m.id)}`, { channel: number });
    try {
      if (ch.assembler.onMethod(m)) ch.dispatch(m, ch.assembler.properties, ch.assembler.body);
    } catch (err) {
      this.channelFailed(ch, err, m);
    }
  }

  private onContentFrame(type: number, number: number, payload: Buffer, owned: boolean): void {
    const ch = this.channels.get(number);
    if (ch === undefined) throw unexpectedFrame('expected method frame, got non method frame instead');
    if (ch.state !== 'open') return;
    const a = ch.assembler;
    try {
      const complete = type === FrameType.Header ? a.onHeader(payload) : a.onBody(payload, owned);
      if (complete) ch.dispatch(a.method!, a.properties, a.body);
    } catch (err) {
      this.channelFailed(ch, err, a.method);
    }
  }

  /** Soft errors close the channel; hard ones (and bugs) go up to close the connection. */
  private channelFailed(ch: Channel, err: unknown, method: Method | undefined): void {
    if (err instanceof SuspendInput) {
      this.suspension = { input: err, channel: ch, method };
      throw err;
    }
    if (err instanceof AmqpError && method !== undefined && err.classId === 0) {
      err.classId = method.id >>> 16;
      err.methodId = method.id & 0xffff;
    }
    if (err instanceof AmqpError && !err.isHard) ch.fail(err, method);
    else throw err;
  }

  // ------------------------------------------------------------------ errors and closing

  private handleError(err: unknown, channel: number, method: Method | undefined): void {
    let error: AmqpError;
    if (err instanceof AmqpError) {
      error = err;
    } else {
      this.log.error('internal error', { error: err instanceof Error ? err.stack : String(err), channel });
      error = internalError(err instanceof Error ? err.message : String(err));
    }
    if (method !== undefined && error.classId === 0) {
      error.classId = method.id >>> 16;
      error.methodId = method.id & 0xffff;
    }
    this.closeWith(error);
  }

  /** Server-initiated close (§2.2.4): connection.close, then wait for close-ok. */
  closeWith(error: AmqpError): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    const level = error.replyCode === ReplyCode.ConnectionForced ? 'info' : 'warn';
    this.log.log(level, `closing connection: ${error.replyText}`);
    this.cancelSuspension();
    this.teardownChannels();
    this.state = 'closing';
    this.sendMethod(0, {
      id: MethodId.ConnectionClose, replyCode: error.replyCode, replyText: error.replyText,
      classId: error.classId, methodId: error.methodId,
    });
    this.flush();
    this.closeTimer = setTimeout(() => this.socket.destroy(), CLOSE_OK_TIMEOUT_MS);
  }

  /**
   * End our side after the close handshake. Reading goes on (a paused socket would never see the peer's
   * FIN), and a peer that neither reads nor closes is dropped after the close timeout.
   */
  private finish(): void {
    this.socket.resume();
    this.socket.end();
    this.closeTimer ??= setTimeout(() => this.socket.destroy(), CLOSE_OK_TIMEOUT_MS);
  }

  private teardownChannels(): void {
    for (const ch of this.channels.values()) {
      ch.flushConfirms();
      ch.teardown();
    }
    this.channels.clear();
  }

  private onSocketClosed(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.closeTimer) clearTimeout(this.closeTimer);
    clearTimeout(this.handshakeTimer);
    this.heartbeatTimer = undefined;
    this.closeTimer = undefined;
    this.teardownChannels();
    this.state = 'closed';
    if (this.vhost !== undefined) this.vhost.connectionClosed(this.owner);
    this.context.connectionClosed(this);
    this.log.info('connection closed', { user: this.username || undefined, client: this.clientDescription() });
  }

  sendMethod(channel: number, m: Method): void {
    this.writer.writeMethod(channel, m);
    this.wrote();
  }

  /** The client's product and version from its client-properties, for log lines. */
  private clientDescription(): string | undefined {
    const text = (key: string): string | undefined => {
      const v = this.clientProperties.get(key);
      return v !== undefined && v.type === 'S' ? v.value.toString('utf8') : undefined;
    };
    const product = text('product');
    const version = text('version');
    return product === undefined ? undefined : version === undefined ? product : `${product} ${version}`;
  }

  // ------------------------------------------------------------------ heartbeats

  /**
   * Heartbeats (§4.2.7): we send one when nothing else went out for half the interval, and drop a
   * peer from which nothing arrived for two intervals (RabbitMQ: "missed heartbeats from client").
   */
  private startHeartbeats(): void {
    if (this.heartbeatSeconds === 0) return;
    const halfMs = (this.heartbeatSeconds * 1000) / 2;
    this.heartbeatTimer = setInterval(() => {
      if (!this.sentSinceTick) {
        this.writer.writeHeartbeat();
        this.flush();
      }
      this.sentSinceTick = false;
      if (this.receivedSinceTick) this.silentTicks = 0;
      else if (++this.silentTicks >= 4) {
        this.log.warn(`missed heartbeats from client, timeout: ${this.heartbeatSeconds}s`);
        this.socket.destroy();
      }
      this.receivedSinceTick = false;
    }, halfMs);
  }

  /** Close from the broker side (shutdown, reset): 320 CONNECTION_FORCED. */
  forceClose(reason: string): void {
    // The client already closed and has its close-ok: shutting down need not wait for it to hang up.
    if (this.closedByClient) {
      this.socket.end();
      return;
    }
    this.closeWith(new AmqpError(ReplyCode.ConnectionForced, `broker forced connection closure with reason '${reason}'`));
  }
}
