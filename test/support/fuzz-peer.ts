/**
 * Fuzzing support: a seeded PRNG, mutations of recorded conversations, and a blind replay over a raw
 * socket that reads (and leniently decodes) whatever the server answers.
 */
import net from 'node:net';
import { once } from 'node:events';

/** mulberry32: small, fast, good enough to pick mutations; the same seed gives the same choices. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A per-iteration seed from the run's seed, so one iteration can be replayed on its own. */
export function iterationSeed(runSeed: number, iteration: number): number {
  return (Math.imul(runSeed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(iteration + 1, 0xc2b2ae35)) >>> 0;
}

export interface Mutated {
  readonly conversation: string;
  readonly bytes: Buffer;
  /** Sizes of the successive writes (they add up to bytes.length). */
  readonly chunks: readonly number[];
  /** Answer the server's connection.close / channel.close like a good client would. */
  readonly answerCloses: boolean;
  /** What was done, for a failure message. */
  readonly steps: readonly string[];
}

const FRAME_SIZES = [0xffffffff, 0x80000000, 0x7fffffff, 131073, 131072 + 8, 4096, 0];
const LENGTH_VALUES = [0xffffffff, 0x7fffffff, 0x80000000, 0x00010000, 0x000000ff];

/**
 * 1–3 mutations of a recorded conversation (frame level: bit flips, reordering, duplication, drops,
 * lying frame sizes, oversize inner length fields, type and channel changes, garbage; stream level:
 * truncation), then a random split into TCP writes.
 */
export function mutate(name: string, recorded: readonly Buffer[], rand: () => number): Mutated {
  const int = (n: number): number => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const frames = recorded.map((f) => Buffer.from(f));
  const steps: string[] = [];
  /** A frame index; the protocol header (index 0) is chosen rarely. */
  const frameIndex = (): number => (frames.length === 1 || rand() < 0.05 ? 0 : 1 + int(frames.length - 1));
  let truncateAt = -1;
  const count = 1 + int(3);
  for (let k = 0; k < count; k++) {
    const kind = int(11);
    switch (kind) {
      case 0: case 1: { // bit flips (most common: the classic fuzz)
        const n = 1 + int(8);
        for (let j = 0; j < n; j++) {
          const i = frameIndex();
          const f = frames[i]!;
          const at = int(f.length);
          const bit = int(8);
          f[at]! ^= 1 << bit;
          steps.push(`flip frame ${i} byte ${at} bit ${bit}`);
        }
        break;
      }
      case 2: { // truncation of the whole stream
        truncateAt = rand();
        steps.push(`truncate at ${truncateAt.toFixed(4)} of the stream`);
        break;
      }
      case 3: { // reorder two frames
        const i = frameIndex();
        const j = frameIndex();
        [frames[i], frames[j]] = [frames[j]!, frames[i]!];
        steps.push(`swap frames ${i} and ${j}`);
        break;
      }
      case 4: { // duplicate a frame (right after itself or anywhere)
        const i = frameIndex();
        const at = rand() < 0.5 ? i + 1 : int(frames.length + 1);
        frames.splice(at, 0, Buffer.from(frames[i]!));
        steps.push(`duplicate frame ${i} at ${at}`);
        break;
      }
      case 5: { // a frame header lying about its size
        const i = 1 + int(Math.max(1, frames.length - 1));
        const f = frames[i];
        if (f === undefined || f.length < 8) break;
        const real = f.length - 8;
        const size = rand() < 0.6 ? pick(FRAME_SIZES) : Math.max(0, real + int(64) - 32);
        f.writeUInt32BE(size >>> 0, 3);
        steps.push(`frame ${i} size ${real} -> ${size}`);
        break;
      }
      case 6: { // an oversize length inside a payload (shortstr, longstr, table, array lengths)
        const i = 1 + int(Math.max(1, frames.length - 1));
        const f = frames[i];
        if (f === undefined || f.length <= 12) break;
        const at = 7 + int(f.length - 8);
        if (rand() < 0.5 || at + 4 > f.length - 1) {
          f[at] = 0xff;
          steps.push(`frame ${i} byte ${at} = 0xff`);
        } else {
          const v = pick(LENGTH_VALUES);
          f.writeUInt32BE(v, at);
          steps.push(`frame ${i} long at ${at} = 0x${v.toString(16)}`);
        }
        break;
      }
      case 7: { // drop a frame
        const i = frameIndex();
        frames.splice(i, 1);
        steps.push(`drop frame ${i}`);
        break;
      }
      case 8: { // change a frame's type
        const i = 1 + int(Math.max(1, frames.length - 1));
        const f = frames[i];
        if (f === undefined) break;
        const t = pick([1, 2, 3, 4, 8, 0, 0xce, int(256)]);
        f[0] = t;
        steps.push(`frame ${i} type -> ${t}`);
        break;
      }
      case 9: { // move a frame to another channel
        const i = 1 + int(Math.max(1, frames.length - 1));
        const f = frames[i];
        if (f === undefined || f.length < 3) break;
        const c = pick([0, 1, 2, 3, 2047, 2048, 65535]);
        f.writeUInt16BE(c, 1);
        steps.push(`frame ${i} channel -> ${c}`);
        break;
      }
      default: { // random garbage between frames
        const n = 1 + int(32);
        const garbage = Buffer.alloc(n);
        for (let j = 0; j < n; j++) garbage[j] = int(256);
        const at = int(frames.length + 1);
        frames.splice(at, 0, garbage);
        steps.push(`insert ${n} random bytes at frame ${at}`);
      }
    }
  }
  let bytes = Buffer.concat(frames);
  if (truncateAt >= 0) bytes = bytes.subarray(0, Math.floor(bytes.length * truncateAt));
  const chunks: number[] = [];
  if (rand() < 0.3) {
    chunks.push(bytes.length);
  } else {
    const max = rand() < 0.5 ? 16 : 2048;
    for (let left = bytes.length; left > 0;) {
      const n = Math.min(left, 1 + int(max));
      chunks.push(n);
      left -= n;
    }
  }
  const answerCloses = rand() < 0.7;
  return { conversation: name, bytes, chunks, answerCloses, steps };
}

export interface ReplayOutcome {
  /** Who ended the connection: the server closed its socket, or the test after idling or at the cap. */
  readonly endedBy: 'server' | 'idle' | 'cap';
  /** connection.close reply codes the server sent (normally zero or one). */
  readonly connectionCloses: number[];
  readonly channelCloses: number[];
  readonly closeOk: boolean;
  /** The server answered with its protocol header (refused our header). */
  readonly headerRefused: boolean;
  readonly bytesReceived: number;
  /** Our local port: the server connection's remote port. */
  readonly localPort: number;
}

export interface ReplayOptions {
  /** Destroy the socket after this long without anything from the server once everything is written. */
  readonly idleMs: number;
  /** Destroy the socket this long after connecting, whatever happens. */
  readonly capMs: number;
}

const CONNECTION_CLOSE_OK = Buffer.from([1, 0, 0, 0, 0, 0, 4, 0, 10, 0, 51, 0xce]);
function channelCloseOk(channel: number): Buffer {
  const b = Buffer.from([1, 0, 0, 0, 0, 0, 4, 0, 20, 0, 41, 0xce]);
  b.writeUInt16BE(channel, 1);
  return b;
}

/** Sends `m` over a fresh connection, split as it says, and reads everything until the connection ends. */
export async function replay(port: number, m: Mutated, options: ReplayOptions): Promise<ReplayOutcome> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  const dbg = (s: string): void => { if (process.env.WARREN_FUZZ_DEBUG) process.stderr.write(`${s}\n`); };
  dbg(`connecting ${m.steps.join('; ')}`);
  await once(socket, 'connect');
  const localPort = socket.localPort!;
  dbg(`connected port ${socket.localPort} ${m.conversation}: ${m.steps.join('; ')} chunks ${m.chunks.length} answer ${m.answerCloses}`);
  let pending: Buffer = Buffer.alloc(0);
  let headerRefused = false;
  let bytesReceived = 0;
  const connectionCloses: number[] = [];
  const channelCloses: number[] = [];
  let closeOk = false;
  let idleTimer: NodeJS.Timeout | undefined;
  let doneWriting = false;
  let endedBy: ReplayOutcome['endedBy'] = 'server';
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const armIdle = (): void => {
    if (!doneWriting) return;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => { endedBy = 'idle'; socket.destroy(); }, options.idleMs);
  };
  const cap = setTimeout(() => { endedBy = 'cap'; socket.destroy(); }, options.capMs);

  socket.on('data', (chunk: Buffer) => {
    bytesReceived += chunk.length;
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let off = 0;
    while (pending.length - off >= 8) {
      if (pending[off] === 0x41) { // "AMQP": our header was refused
        headerRefused = true;
        off += 8;
        continue;
      }
      const size = pending.readUInt32BE(off + 3);
      if (pending.length - off < size + 8) break;
      const type = pending[off]!;
      const channel = pending.readUInt16BE(off + 1);
      if (type === 1 && size >= 4) {
        const cls = pending.readUInt16BE(off + 7);
        const mth = pending.readUInt16BE(off + 9);
        if (cls === 10 && mth === 50) {
          connectionCloses.push(pending.readUInt16BE(off + 11));
          if (m.answerCloses && !socket.destroyed) socket.write(CONNECTION_CLOSE_OK);
        } else if (cls === 10 && mth === 51) {
          closeOk = true;
        } else if (cls === 20 && mth === 40) {
          channelCloses.push(pending.readUInt16BE(off + 11));
          if (m.answerCloses && !socket.destroyed) socket.write(channelCloseOk(channel));
        }
      }
      off += size + 8;
    }
    pending = pending.subarray(off);
    armIdle();
  });

  let pos = 0;
  for (const n of m.chunks) {
    if (socket.destroyed) break;
    const chunk = m.bytes.subarray(pos, pos + n);
    pos += n;
    // One write at a time, each handed to the kernel before the next: the server sees many reads.
    const written = new Promise<void>((resolve) => socket.write(chunk, () => resolve()));
    await Promise.race([written, closed]);
  }
  doneWriting = true;
  armIdle();
  if (process.env.WARREN_FUZZ_DEBUG) process.stderr.write(`written ${m.steps.join('; ')}\n`);
  await closed;
  dbg(`closed (${endedBy}) port ${localPort} ${JSON.stringify({ connectionCloses, channelCloses, closeOk, headerRefused })}`);
  clearTimeout(idleTimer);
  clearTimeout(cap);
  return { endedBy, connectionCloses, channelCloses, closeOk, headerRefused, bytesReceived, localPort };
}
