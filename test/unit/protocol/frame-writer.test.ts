import { expect } from 'chai';
import { FrameParser } from '../../../src/protocol/frame-parser.js';
import { type FrameSink, FrameWriter } from '../../../src/protocol/frame-writer.js';
import { MethodId } from '../../../src/protocol/generated/methods.js';
import {
  basicProperties,
  bodyFrames,
  contentHeaderFrame,
  heartbeatFrame,
  methodFrame,
  protocolHeader,
  splitFrames,
} from '../../support/frame-builder.js';

/** Records every call; `results` scripts what write() returns (default true). */
class FakeSink implements FrameSink {
  calls: string[] = [];
  chunks: Buffer[] = [];
  results: boolean[] = [];
  write(chunk: Buffer): boolean {
    this.calls.push('write');
    this.chunks.push(chunk);
    return this.results.shift() ?? true;
  }
  cork(): void {
    this.calls.push('cork');
  }
  uncork(): void {
    this.calls.push('uncork');
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

const FRAME_MAX = 4096;
const props = basicProperties({ contentType: 'text/plain', deliveryMode: 2 });

function body(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7) & 0xff;
  return b;
}

/** Frames decoded by Warren's own parser, for reassembly checks. */
function parse(bytes: Buffer, frameMax = FRAME_MAX): Array<{ type: number; channel: number; payload: Buffer }> {
  const out: Array<{ type: number; channel: number; payload: Buffer }> = [];
  const p = new FrameParser(
    { onProtocolHeader: () => {}, onFrame: (type, channel, payload) => out.push({ type, channel, payload: Buffer.from(payload) }) },
    frameMax,
    { protocolHeader: false },
  );
  p.push(bytes);
  return out;
}

describe('FrameWriter', () => {
  it('writes a method frame exactly as laid out by hand', () => {
    const sink = new FakeSink();
    const w = new FrameWriter(sink, FRAME_MAX);
    w.writeMethod(3, {
      id: MethodId.BasicDeliver, consumerTag: 'ctag', deliveryTag: 42, redelivered: true, exchange: 'ex', routingKey: 'rk',
    });
    const expected = methodFrame(3, 60, 60, [
      ['shortstr', 'ctag'], ['longlong', 42], ['bits', [true]], ['shortstr', 'ex'], ['shortstr', 'rk'],
    ]);
    expect(w.pendingBytes).to.equal(expected.length);
    expect(w.flush()).to.equal(true);
    expect(sink.bytes.equals(expected)).to.equal(true);
  });

  it('coalesces method + header + small body + heartbeat into one chunk and one write (no cork needed)', () => {
    const sink = new FakeSink();
    const w = new FrameWriter(sink, FRAME_MAX);
    w.writeRaw(protocolHeader());
    w.writeMethod(1, { id: MethodId.BasicDeliver, consumerTag: 'c', deliveryTag: 1, redelivered: false, exchange: '', routingKey: 'q' });
    w.writeContent(1, 60, props, Buffer.from('hello'));
    w.writeHeartbeat();
    expect(w.flush()).to.equal(true);
    expect(sink.calls).to.deep.equal(['write']);
    const frames = splitFrames(sink.chunks[0]!.subarray(8));
    expect(frames.map((f) => f.type)).to.deep.equal([1, 2, 3, 8]);
    expect(frames[2]!.payload.toString()).to.equal('hello');
    expect(sink.chunks[0]!.subarray(0, 8).equals(protocolHeader())).to.equal(true);
    expect(sink.chunks[0]!.subarray(-8).equals(heartbeatFrame())).to.equal(true);
  });

  it('writes content identical to the independent builder (header, then bodies split at frame_max − 8)', () => {
    for (const n of [0, 1, 4087, 4088, 4089, 4096, 10_000, 3 * 4088]) {
      for (const threshold of [0, 1 << 20]) {
        const sink = new FakeSink();
        const w = new FrameWriter(sink, FRAME_MAX, { copyThreshold: threshold });
        const b = body(n);
        w.writeContent(9, 60, props, b);
        w.flush();
        const expected = Buffer.concat([contentHeaderFrame(9, 60, n, props), bodyFrames(9, b, FRAME_MAX)]);
        expect(sink.bytes.equals(expected), `body ${n}, threshold ${threshold}`).to.equal(true);
      }
    }
  });

  it('splits a body at frame_max − 8 that the parser reassembles', () => {
    const sink = new FakeSink();
    const w = new FrameWriter(sink, FRAME_MAX);
    const b = body(10_000);
    w.writeContent(2, 60, props, b);
    w.flush();
    const frames = parse(sink.bytes);
    expect(frames.map((f) => [f.type, f.channel, f.payload.length])).to.deep.equal([
      [2, 2, 12 + props.length], [3, 2, 4088], [3, 2, 4088], [3, 2, 1824],
    ]);
    expect(Buffer.concat(frames.slice(1).map((f) => f.payload)).equals(b)).to.equal(true);
  });

  it('writes no body frame for an empty body, and one body frame when frame_max is 0', () => {
    const sink = new FakeSink();
    const w = new FrameWriter(sink, FRAME_MAX);
    w.writeContent(1, 60, props, Buffer.alloc(0));
    w.flush();
    expect(parse(sink.bytes).map((f) => f.type)).to.deep.equal([2]);
    const sink0 = new FakeSink();
    const w0 = new FrameWriter(sink0, 0);
    w0.writeContent(1, 60, props, body(100_000));
    w0.flush();
    expect(parse(sink0.bytes, 0).map((f) => [f.type, f.payload.length])).to.deep.equal([[2, 12 + props.length], [3, 100_000]]);
  });

  it('does not copy a large body: its frame slices are views of the body buffer', () => {
    const sink = new FakeSink();
    const w = new FrameWriter(sink, FRAME_MAX);
    const b = body(10_000);
    w.writeContent(1, 60, props, b);
    expect(w.pendingBytes).to.equal(contentHeaderFrame(1, 60, 10_000, props).length + 10_000 + 3 * 8);
    w.flush();
    const views = sink.chunks.filter((c) => c.buffer === b.buffer);
    expect(views.map((c) => [c.byteOffset - b.byteOffset, c.length])).to.deep.equal([[0, 4088], [4088, 4088], [8176, 1824]]);
    // Everything else (frame headers, end octets, the content header) is in the slab, interleaved.
    expect(sink.chunks.length).to.equal(7);
    expect(sink.calls).to.deep.equal(['cork', ...sink.chunks.map(() => 'write'), 'uncork']);
  });

  it('copies a body at or below the threshold into the slab', () => {
    const sink = new FakeSink();
    const w = new FrameWriter(sink, FRAME_MAX);
    const b = body(4096);
    w.writeContent(1, 60, props, b);
    w.flush();
    expect(sink.chunks).to.have.length(1);
    expect(sink.chunks[0]!.buffer).to.not.equal(b.buffer);
  });

  it('corks around a multi-chunk flush and returns the last write result', () => {
    const sink = new FakeSink();
    const w = new FrameWriter(sink, FRAME_MAX);
    w.writeHeartbeat();
    w.writeRaw(body(5000)); // large raw bytes are queued by reference
    w.writeHeartbeat();
    sink.results = [true, true, false];
    expect(w.flush()).to.equal(false);
    expect(sink.calls).to.deep.equal(['cork', 'write', 'write', 'write', 'uncork']);
    expect(sink.bytes.equals(Buffer.concat([heartbeatFrame(), body(5000), heartbeatFrame()]))).to.equal(true);
    expect(w.pendingBytes).to.equal(0);
  });

  it('does nothing on an empty flush', () => {
    const sink = new FakeSink();
    const w = new FrameWriter(sink, FRAME_MAX);
    expect(w.flush()).to.equal(true);
    expect(sink.calls).to.deep.equal([]);
  });

  it('uncorks even when a write throws', () => {
    const sink = new FakeSink();
    sink.write = (c: Buffer) => {
      sink.calls.push('write');
      if (sink.calls.length > 2) throw new Error('socket gone');
      sink.chunks.push(c);
      return true;
    };
    const w = new FrameWriter(sink, FRAME_MAX);
    w.writeHeartbeat();
    w.writeRaw(body(5000));
    expect(() => w.flush()).to.throw('socket gone');
    expect(sink.calls.at(-1)).to.equal('uncork');
    expect(w.pendingBytes).to.equal(0);
  });

  it('never overwrites slab bytes already handed to the sink', () => {
    const sink = new FakeSink();
    const w = new FrameWriter(sink, FRAME_MAX, { slabSize: 64 });
    w.writeHeartbeat();
    w.flush();
    const first = sink.chunks[0]!;
    const snapshot = Buffer.from(first);
    for (let i = 0; i < 20; i++) {
      w.writeContent(1, 60, props, body(30)); // forces new 64-byte slabs along the way
      w.flush();
    }
    expect(first.equals(snapshot)).to.equal(true);
    const all = parse(sink.bytes);
    expect(all).to.have.length(41);
    expect(all.slice(1).every((f, i) => f.type === (i % 2 === 0 ? 2 : 3))).to.equal(true);
  });

  it('reserve() grants room in the current slab or a new one of max(slab size, n)', () => {
    const sink = new FakeSink();
    const w = new FrameWriter(sink, FRAME_MAX);
    const a = w.reserve(10);
    expect(a.length).to.equal(64 * 1024);
    a.write('0123456789', w.offset);
    w.commit(w.offset + 10);
    expect(w.reserve(10)).to.equal(a);
    const big = w.reserve(100_000);
    expect(big).to.not.equal(a);
    expect(big.length).to.equal(100_000);
    expect(w.offset).to.equal(0);
    expect(w.pendingBytes).to.equal(10);
    big.fill(0x41, 0, 5);
    w.commit(5);
    w.flush();
    expect(sink.bytes.toString()).to.equal('0123456789AAAAA');
  });

  it('uses a frame_max changed after tune for the next content', () => {
    const sink = new FakeSink();
    const w = new FrameWriter(sink, FRAME_MAX);
    w.frameMax = 131072;
    w.writeContent(1, 60, props, body(10_000));
    w.flush();
    expect(parse(sink.bytes, 131072).map((f) => f.payload.length).slice(1)).to.deep.equal([10_000]);
  });
});
