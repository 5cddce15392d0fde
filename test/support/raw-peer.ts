/**
 * A raw AMQP peer for illegal input: it speaks through the independent test frame builder, never
 * through Warren's codec, and reads the server's frames with its own minimal splitter.
 */
import net from 'node:net';
import { once } from 'node:events';
import { FRAME_END, type ParsedFrame, methods, protocolHeader } from './frame-builder.js';

export interface CloseFrame {
  readonly channel: number;
  readonly replyCode: number;
  readonly replyText: string;
  readonly classId: number;
  readonly methodId: number;
}

export class RawPeer {
  private pending = Buffer.alloc(0);
  private readonly frames: ParsedFrame[] = [];
  private waiter: (() => void) | null = null;
  private ended = false;
  /** Raw bytes before any frame (the protocol header a server sends back on refusal). */
  readonly socketClosed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      this.split();
      this.wake();
    });
    this.socketClosed = new Promise((resolve) => socket.once('close', () => { this.ended = true; this.wake(); resolve(); }));
    socket.on('error', () => undefined);
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<RawPeer> {
    const socket = net.connect(port, host);
    await once(socket, 'connect');
    return new RawPeer(socket);
  }

  /** A complete handshake up to connection.open-ok; heartbeats off. */
  static async open(port: number, frameMax = 131072, channelMax = 2047, heartbeat = 0): Promise<RawPeer> {
    const peer = await RawPeer.connect(port);
    peer.send(protocolHeader());
    await peer.expectMethod(10, 10);
    peer.send(methods.connectionStartOk([['capabilities', ['F', [['authentication_failure_close', ['t', true]], ['consumer_cancel_notify', ['t', true]]]]]]));
    await peer.expectMethod(10, 30);
    peer.send(methods.connectionTuneOk(channelMax, frameMax, heartbeat));
    peer.send(methods.connectionOpen('/'));
    await peer.expectMethod(10, 41);
    return peer;
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The unparsed bytes received so far (e.g. a protocol header sent back). */
  get rawPending(): Buffer {
    return this.pending;
  }

  async nextFrame(): Promise<ParsedFrame | null> {
    for (;;) {
      const f = this.frames.shift();
      if (f !== undefined) return f;
      if (this.ended) return null;
      await new Promise<void>((resolve) => { this.waiter = resolve; });
    }
  }

  async expectMethod(classId: number, methodId: number): Promise<ParsedFrame> {
    for (;;) {
      const f = await this.nextFrame();
      if (f === null) throw new Error(`connection ended while waiting for method ${classId}/${methodId}`);
      if (f.type === 1 && f.payload.readUInt16BE(0) === classId && f.payload.readUInt16BE(2) === methodId) return f;
      if (f.type === 1 && f.payload.readUInt16BE(0) === 10 && f.payload.readUInt16BE(2) === 50) {
        throw new Error(`server closed the connection: ${JSON.stringify(decodeClose(f))}`);
      }
    }
  }

  /** Wait for connection.close (channel 0) or channel.close; answers close-ok like a good client. */
  async expectClose(): Promise<CloseFrame> {
    for (;;) {
      const f = await this.nextFrame();
      if (f === null) throw new Error('connection ended without a close method');
      if (f.type !== 1) continue;
      const cls = f.payload.readUInt16BE(0);
      const mth = f.payload.readUInt16BE(2);
      if ((cls === 10 && mth === 50) || (cls === 20 && mth === 40)) {
        const close = decodeClose(f);
        this.send(cls === 10 ? methods.connectionCloseOk() : methods.channelCloseOk(f.channel));
        return close;
      }
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  private split(): void {
    let off = 0;
    const buf = this.pending;
    while (buf.length - off >= 8) {
      if (buf[off] === 0x41) break; // "AMQP": a protocol header, left raw
      const size = buf.readUInt32BE(off + 3);
      if (buf.length - off < size + 8) break;
      if (buf[off + 7 + size] !== FRAME_END) throw new Error('server sent a bad frame end');
      this.frames.push({ type: buf[off]!, channel: buf.readUInt16BE(off + 1), payload: Buffer.from(buf.subarray(off + 7, off + 7 + size)) });
      off += size + 8;
    }
    this.pending = buf.subarray(off);
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
}

export function decodeClose(f: ParsedFrame): CloseFrame {
  const p = f.payload;
  const replyCode = p.readUInt16BE(4);
  const len = p[6]!;
  const replyText = p.subarray(7, 7 + len).toString('utf8');
  return { channel: f.channel, replyCode, replyText, classId: p.readUInt16BE(7 + len), methodId: p.readUInt16BE(9 + len) };
}
