/**
 * Per-connection outbound frame batching. Frames are encoded into a slab (one large buffer, written
 * front to back; a region once queued is never written again, so the socket may hold on to it), and
 * queued regions are handed to the socket together on flush(), inside cork()/uncork() so they leave in
 * as few syscalls as possible. A small delivery (method + content header + body) therefore coalesces
 * into one contiguous region of the slab.
 *
 * Bodies above `copyThreshold` are not copied (amqplib's sendMessage and RabbitMQ's iolists do the
 * same): each body frame's 7-byte header and end octet go into the slab and the body slice itself is
 * queued by reference, so the caller must not modify a body after handing it over.
 *
 * Bodies are split at frame_max − 8 (§4.2.3; rabbit_binary_generator build_content_frames); an empty
 * body gets no body frame at all, like RabbitMQ.
 */
import { FRAME_END, FrameType } from './generated/constants.js';
import { type Method, encodeMethod, methodFrameSize } from './generated/methods.js';
import { contentHeaderSize, writeContentHeaderFrame } from './content-header.js';

/** What the writer needs from a socket; a net.Socket satisfies it. */
export interface FrameSink {
  write(chunk: Buffer): boolean;
  cork(): void;
  uncork(): void;
}

export interface FrameWriterOptions {
  /** Size of a new slab when the current one is full (a bigger one if a single frame needs it). */
  readonly slabSize?: number;
  /** Bodies up to this size are copied into the slab; larger ones are queued by reference. */
  readonly copyThreshold?: number;
}

export const DEFAULT_SLAB_SIZE = 64 * 1024;
export const DEFAULT_COPY_THRESHOLD = 4 * 1024;

/** Writes a 7-byte frame header at `off`; returns the offset of the payload. */
export function writeFrameHeader(buf: Buffer, off: number, type: number, channel: number, size: number): number {
  buf[off] = type;
  buf.writeUInt16BE(channel, off + 1);
  buf.writeUInt32BE(size, off + 3);
  return off + 7;
}

export class FrameWriter {
  /** Negotiated frame_max; bodies are split at frameMax − 8. 0 = no limit (one body frame). */
  frameMax: number;

  private readonly sink: FrameSink;
  private readonly slabSize: number;
  private readonly copyThreshold: number;
  /** Allocated on first use: an idle connection holds no slab until it writes. */
  private slab: Buffer | null = null;
  /** Slab bytes [start, off) are written but not queued yet; [off, length) are free. */
  private start = 0;
  private off = 0;
  /** Regions ready for the socket, in order; `queued` is their total size. */
  private readonly queue: Buffer[] = [];
  private queued = 0;

  constructor(sink: FrameSink, frameMax: number, options?: FrameWriterOptions) {
    this.sink = sink;
    this.frameMax = frameMax;
    this.slabSize = options?.slabSize ?? DEFAULT_SLAB_SIZE;
    this.copyThreshold = options?.copyThreshold ?? DEFAULT_COPY_THRESHOLD;
  }

  /** Bytes written but not yet handed to the sink. */
  get pendingBytes(): number {
    return this.queued + this.off - this.start;
  }

  /**
   * Ensures `n` free bytes in the current slab and returns it; write from `offset`, then commit() the
   * new offset. Allocates a new slab of max(slabSize, n) when the current one lacks room.
   */
  reserve(n: number): Buffer {
    const slab = this.slab;
    if (slab !== null && slab.length - this.off >= n) return slab;
    this.cut();
    const fresh = Buffer.allocUnsafe(Math.max(this.slabSize, n));
    this.slab = fresh;
    this.start = 0;
    this.off = 0;
    return fresh;
  }

  /** Where the next write into the slab returned by reserve() starts. */
  get offset(): number {
    return this.off;
  }

  /** Marks the slab bytes up to `newOff` as written (within what reserve() granted). */
  commit(newOff: number): void {
    this.off = newOff;
  }

  writeMethod(channel: number, m: Method): void {
    const buf = this.reserve(methodFrameSize(m));
    this.off = encodeMethod(buf, this.off, channel, m);
  }

  /** Content header frame, then the body in frames of at most frameMax − 8 bytes. */
  writeContent(channel: number, classId: number, rawProperties: Buffer, body: Buffer): void {
    const bodySize = body.length;
    const maxPayload = this.frameMax === 0 ? Math.max(bodySize, 1) : this.frameMax - 8;
    // frame_max is at least 4096 once negotiated (§4.2.3 frame-min-size); anything else is a bug here.
    if (maxPayload <= 0) throw new Error(`frame writer: frame_max ${this.frameMax} leaves no room for a body`);
    const headerSize = contentHeaderSize(rawProperties.length);
    if (bodySize <= this.copyThreshold) {
      const frames = Math.ceil(bodySize / maxPayload);
      const buf = this.reserve(headerSize + bodySize + frames * 8);
      let off = writeContentHeaderFrame(buf, this.off, channel, classId, bodySize, rawProperties);
      for (let pos = 0; pos < bodySize; pos += maxPayload) {
        const len = Math.min(maxPayload, bodySize - pos);
        off = writeFrameHeader(buf, off, FrameType.Body, channel, len);
        off += body.copy(buf, off, pos, pos + len);
        buf[off++] = FRAME_END;
      }
      this.off = off;
      return;
    }
    let buf = this.reserve(headerSize);
    this.off = writeContentHeaderFrame(buf, this.off, channel, classId, bodySize, rawProperties);
    for (let pos = 0; pos < bodySize; pos += maxPayload) {
      const len = Math.min(maxPayload, bodySize - pos);
      // Room for the header and the end octet, so the end octet lands right after the header's region.
      buf = this.reserve(8);
      this.off = writeFrameHeader(buf, this.off, FrameType.Body, channel, len);
      this.cut();
      this.enqueue(body.subarray(pos, pos + len));
      buf[this.off++] = FRAME_END;
    }
  }

  writeHeartbeat(): void {
    const buf = this.reserve(8);
    const off = writeFrameHeader(buf, this.off, FrameType.Heartbeat, 0, 0);
    buf[off] = FRAME_END;
    this.off = off + 1;
  }

  /** Pre-encoded bytes (e.g. the protocol header); small ones are copied, large ones queued by reference. */
  writeRaw(bytes: Buffer): void {
    if (bytes.length <= this.copyThreshold) {
      const buf = this.reserve(bytes.length);
      this.off += bytes.copy(buf, this.off);
    } else {
      this.cut();
      this.enqueue(bytes);
    }
  }

  /**
   * Hands everything pending to the sink (corked when more than one chunk) and returns the last
   * write's result: false means the socket is not draining; wait for 'drain' before writing more.
   */
  flush(): boolean {
    this.cut();
    const q = this.queue;
    const n = q.length;
    if (n === 0) return true;
    let ok = true;
    const sink = this.sink;
    try {
      if (n === 1) {
        ok = sink.write(q[0]!);
      } else {
        sink.cork();
        try {
          for (let i = 0; i < n; i++) ok = sink.write(q[i]!);
        } finally {
          sink.uncork();
        }
      }
    } finally {
      q.length = 0;
      this.queued = 0;
    }
    return ok;
  }

  /** Queues the slab's written-but-unqueued region. */
  private cut(): void {
    if (this.slab !== null && this.off > this.start) {
      this.enqueue(this.slab.subarray(this.start, this.off));
      this.start = this.off;
    }
  }

  private enqueue(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.queue.push(chunk);
    this.queued += chunk.length;
  }
}
