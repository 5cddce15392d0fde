import { expect } from 'chai';
import fc from 'fast-check';
import { AmqpError } from '../../../src/errors.js';
import { type FrameHandler, FrameParser } from '../../../src/protocol/frame-parser.js';
import {
  basicProperties,
  bodyFrame,
  contentHeaderFrame,
  heartbeatFrame,
  methods,
  protocolHeader,
  rawFrame,
} from '../../support/frame-builder.js';

interface Seen {
  type: number;
  channel: number;
  payload: Buffer;
  owned: boolean;
  /** The payload as delivered, to check what it is a view of. */
  view: Buffer;
}

class Recorder implements FrameHandler {
  headers: Buffer[] = [];
  frames: Seen[] = [];
  onProtocolHeader(header: Buffer): void {
    this.headers.push(header);
  }
  onFrame(type: number, channel: number, payload: Buffer, owned: boolean): void {
    // Copy, as the contract says a borrowed payload must be copied to be kept.
    this.frames.push({ type, channel, payload: Buffer.from(payload), owned, view: payload });
  }
  summary(): Array<[number, number, string]> {
    return this.frames.map((f) => [f.type, f.channel, f.payload.toString('hex')]);
  }
}

function expectFrameError(fn: () => unknown, pattern: RegExp): AmqpError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an error').to.be.instanceOf(AmqpError);
  const err = caught as AmqpError;
  expect(err.replyCode).to.equal(501);
  expect(err.explanation).to.match(pattern);
  return err;
}

const FRAME_MAX = 4096;

/** A session's worth of frames: header, methods, content header, bodies, heartbeat, a max-size body. */
function sampleFrames(): Buffer[] {
  return [
    methods.connectionStartOk([['product', ['S', 'test']]]),
    methods.connectionTuneOk(2047, FRAME_MAX, 60),
    methods.connectionOpen('/'),
    methods.channelOpen(1),
    methods.basicPublish(1, 'amq.direct', 'rk'),
    contentHeaderFrame(1, 60, 5000, basicProperties({ contentType: 'text/plain', deliveryMode: 2 })),
    bodyFrame(1, Buffer.alloc(FRAME_MAX - 8, 0x61)),
    bodyFrame(1, Buffer.alloc(5000 - (FRAME_MAX - 8), 0x62)),
    heartbeatFrame(),
    rawFrame(3, 65535, Buffer.alloc(0)),
    methods.basicAck(1, 2n ** 64n - 1n, true),
  ];
}

function parseAll(chunks: readonly Buffer[], frameMax = FRAME_MAX, header = true): Recorder {
  const r = new Recorder();
  const p = new FrameParser(r, frameMax, { protocolHeader: header });
  for (const c of chunks) p.push(c);
  expect(p.pendingBytes).to.equal(0);
  return r;
}

describe('FrameParser', () => {
  const frames = sampleFrames();
  const stream = Buffer.concat([protocolHeader(), ...frames]);
  const expected = parseAll([stream]);

  it('parses a whole stream in one chunk', () => {
    expect(expected.headers).to.deep.equal([protocolHeader()]);
    expect(expected.frames.length).to.equal(frames.length);
    expect(expected.summary()).to.deep.equal(
      frames.map((f) => [f[0]!, f.readUInt16BE(1), f.subarray(7, f.length - 1).toString('hex')]),
    );
  });

  it('delivers frames wholly inside one chunk as views of it (owned = false)', () => {
    for (const f of expected.frames) {
      expect(f.owned).to.equal(false);
      if (f.view.length > 0) expect(f.view.buffer).to.equal(stream.buffer);
    }
  });

  it('produces the same frames for the stream cut in two at every offset', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const r = parseAll([stream.subarray(0, cut), stream.subarray(cut)]);
      expect(r.headers, `cut at ${cut}`).to.deep.equal(expected.headers);
      expect(r.summary(), `cut at ${cut}`).to.deep.equal(expected.summary());
    }
  });

  it('produces the same frames fed one byte at a time', () => {
    const chunks: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) chunks.push(stream.subarray(i, i + 1));
    const r = parseAll(chunks);
    expect(r.headers).to.deep.equal(expected.headers);
    expect(r.summary()).to.deep.equal(expected.summary());
  });

  it('produces the same frames for random chunkings (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 40 }), (cuts) => {
        cuts.sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let prev = 0;
        for (const c of [...cuts, stream.length]) {
          chunks.push(stream.subarray(prev, c));
          prev = c;
        }
        const r = parseAll(chunks);
        expect(r.summary()).to.deep.equal(expected.summary());
      }),
      { numRuns: 300 },
    );
  });

  describe('the owned/borrowed contract', () => {
    const frame = bodyFrame(7, Buffer.from('0123456789'));

    it('a frame split only in its header is still a view of the payload chunk', () => {
      const r = parseAll([frame.subarray(0, 3), frame.subarray(3)], FRAME_MAX, false);
      expect(r.frames[0]!.owned).to.equal(false);
      expect(r.frames[0]!.payload.toString()).to.equal('0123456789');
    });

    it('a payload ending its chunk, with the end octet in the next, is a view', () => {
      const head = frame.subarray(0, frame.length - 1);
      const r = parseAll([head, frame.subarray(frame.length - 1)], FRAME_MAX, false);
      expect(r.frames[0]!.owned).to.equal(false);
      expect(r.frames[0]!.view.buffer).to.equal(head.buffer);
    });

    it('a payload spanning chunks is one exact-size copy the handler owns', () => {
      // Buffer.alloc, not Buffer.from: small Buffer.from copies share one pooled ArrayBuffer.
      const a = Buffer.alloc(12);
      const b = Buffer.alloc(frame.length - 12);
      frame.copy(a, 0, 0, 12);
      frame.copy(b, 0, 12);
      const r = parseAll([a, b], FRAME_MAX, false);
      const f = r.frames[0]!;
      expect(f.owned).to.equal(true);
      expect(f.view.length).to.equal(10);
      expect(f.view.buffer).to.not.equal(a.buffer);
      expect(f.view.buffer).to.not.equal(b.buffer);
      // Mutating the chunks afterwards does not affect an owned payload.
      a.fill(0);
      b.fill(0);
      expect(f.view.toString()).to.equal('0123456789');
    });

    it('does not re-copy pending bytes while a large frame trickles in', () => {
      const big = bodyFrame(1, Buffer.alloc(100_000, 0x5a));
      const r = new Recorder();
      const p = new FrameParser(r, 131072, { protocolHeader: false });
      for (let i = 0; i < big.length; i += 100) {
        p.push(big.subarray(i, i + 100));
        if (i + 100 < big.length) expect(p.pendingBytes).to.equal(Math.min(i + 100, big.length));
      }
      expect(r.frames.length).to.equal(1);
      expect(r.frames[0]!.owned).to.equal(true);
      expect(r.frames[0]!.payload.equals(Buffer.alloc(100_000, 0x5a))).to.equal(true);
      expect(p.pendingBytes).to.equal(0);
    });

    it('keeps pending chunks by reference: nothing is copied until the frame is complete', () => {
      const f = bodyFrame(1, Buffer.from('abcdefgh'));
      const first = Buffer.alloc(10);
      f.copy(first, 0, 0, 10);
      const r = new Recorder();
      const p = new FrameParser(r, FRAME_MAX, { protocolHeader: false });
      p.push(first);
      first[7] = 0x41; // 'a' → 'A' after the push: only visible if the parser did not copy on push
      p.push(f.subarray(10));
      expect(r.frames[0]!.payload.toString()).to.equal('Abcdefgh');
    });
  });

  it('parses many frames in one chunk, with a partial frame carried to the next', () => {
    const many = Buffer.concat(Array.from({ length: 500 }, (_, i) => bodyFrame(i % 3, Buffer.from(`m${i}`))));
    const r = new Recorder();
    const p = new FrameParser(r, FRAME_MAX, { protocolHeader: false });
    p.push(many.subarray(0, many.length - 2));
    expect(r.frames.length).to.equal(499);
    expect(p.pendingBytes).to.equal(10); // the last frame, 'm499' (12 bytes), minus 2
    p.push(many.subarray(many.length - 2));
    expect(r.frames.length).to.equal(500);
    expect(r.frames.map((f) => f.payload.toString())).to.deep.equal(Array.from({ length: 500 }, (_, i) => `m${i}`));
    expect(r.frames[499]!.channel).to.equal(499 % 3);
  });

  it('delivers heartbeats like other frames (type 8)', () => {
    const r = parseAll([heartbeatFrame()], FRAME_MAX, false);
    expect(r.frames).to.have.length(1);
    expect(r.frames[0]!.type).to.equal(8);
    expect(r.frames[0]!.channel).to.equal(0);
    expect(r.frames[0]!.payload.length).to.equal(0);
  });

  describe('protocol header', () => {
    it('passes exactly 8 bytes, then parses frames', () => {
      const r = parseAll([Buffer.concat([protocolHeader(), heartbeatFrame()])]);
      expect(r.headers).to.deep.equal([protocolHeader()]);
      expect(r.headers[0]!.length).to.equal(8);
      expect(r.frames).to.have.length(1);
    });

    it('waits for 8 bytes while they look like AMQP', () => {
      const r = new Recorder();
      const p = new FrameParser(r, FRAME_MAX);
      p.push(Buffer.from('AMQP'));
      p.push(Buffer.from([0, 0, 9]));
      expect(r.headers).to.have.length(0);
      p.push(Buffer.from([1]));
      expect(r.headers).to.deep.equal([protocolHeader()]);
    });

    it('passes a wrong AMQP version on (the server decides), then frames follow', () => {
      const r = parseAll([protocolHeader(1, 1, 0, 9), heartbeatFrame()]);
      expect(r.headers).to.deep.equal([protocolHeader(1, 1, 0, 9)]);
      expect(r.frames).to.have.length(1);
    });

    it('reports a non-AMQP header as soon as the first byte is wrong, then stops', () => {
      const r = new Recorder();
      const p = new FrameParser(r, FRAME_MAX);
      p.push(Buffer.from('G'));
      expect(r.headers).to.deep.equal([Buffer.from('G')]);
      expect(p.closed).to.equal(true);
      p.push(Buffer.from('ET / HTTP/1.1\r\n\r\n'));
      expect(r.headers).to.have.length(1);
      expect(r.frames).to.have.length(0);
    });

    it('reports at most 8 bytes of a non-AMQP header received at once', () => {
      const r2 = new Recorder();
      new FrameParser(r2, FRAME_MAX).push(Buffer.from('GET / HTTP/1.1\r\n'));
      expect(r2.headers).to.deep.equal([Buffer.from('GET / HT')]);
    });

    it('reports a header that goes wrong after a matching prefix', () => {
      const r = new Recorder();
      const p = new FrameParser(r, FRAME_MAX);
      p.push(Buffer.from('AM'));
      expect(r.headers).to.have.length(0);
      p.push(Buffer.from('X'));
      expect(r.headers).to.deep.equal([Buffer.from('AMX')]);
    });

    it('close() from the header handler stops parsing', () => {
      const r = new Recorder();
      const p = new FrameParser(
        { onProtocolHeader: (h) => { r.onProtocolHeader(h); p.close(); }, onFrame: r.onFrame.bind(r) },
        FRAME_MAX,
      );
      p.push(Buffer.concat([protocolHeader(1, 1, 0, 9), heartbeatFrame()]));
      expect(r.headers).to.have.length(1);
      expect(r.frames).to.have.length(0);
      expect(p.closed).to.equal(true);
    });
  });

  describe('malformed frames → FRAME_ERROR (501)', () => {
    it('rejects a bad frame end octet', () => {
      const p = new FrameParser(new Recorder(), FRAME_MAX, { protocolHeader: false });
      const err = expectFrameError(
        () => p.push(rawFrame(1, 3, Buffer.from([0, 10, 0, 11]), { end: 0x41 })),
        /^invalid_frame_end_marker: type 1, channel 3: frame end octet is 0x41, not 0xce$/,
      );
      expect(err.isHard).to.equal(true);
      expect(p.failed).to.equal(true);
    });

    it('rejects a bad end octet arriving in a later chunk, before delivering the payload', () => {
      const r = new Recorder();
      const p = new FrameParser(r, FRAME_MAX, { protocolHeader: false });
      const f = rawFrame(3, 1, Buffer.from('abc'), { end: 0 });
      p.push(f.subarray(0, f.length - 1));
      expect(r.frames).to.have.length(0);
      expectFrameError(() => p.push(f.subarray(f.length - 1)), /invalid_frame_end_marker/);
      expect(r.frames).to.have.length(0);
    });

    it('rejects an oversized frame from its 7-byte header alone, before the payload arrives', () => {
      const p = new FrameParser(new Recorder(), FRAME_MAX, { protocolHeader: false });
      const header = rawFrame(3, 1, Buffer.alloc(0), { size: FRAME_MAX + 1, noEnd: true });
      expect(header.length).to.equal(7);
      expectFrameError(() => p.push(header), /^type 3, all octets = <<>>: \{frame_too_large,4097,4088\}$/);
      expect(p.failed).to.equal(true);
      expect(p.pendingBytes).to.equal(0);
    });

    it('rejects a 4 GiB size without trying to buffer it', () => {
      const p = new FrameParser(new Recorder(), 131072, { protocolHeader: false });
      expectFrameError(() => p.push(rawFrame(1, 0, Buffer.alloc(0), { size: 0xffffffff, noEnd: true })), /4294967295/);
    });

    it('accepts frames up to frame_max − 8, and like RabbitMQ up to 8 bytes over (FRAME_SIZE_FUDGE)', () => {
      const r = parseAll([bodyFrame(1, Buffer.alloc(FRAME_MAX - 8)), bodyFrame(1, Buffer.alloc(FRAME_MAX))], FRAME_MAX, false);
      expect(r.frames.map((f) => f.payload.length)).to.deep.equal([FRAME_MAX - 8, FRAME_MAX]);
    });

    it('applies no limit when frame_max is 0', () => {
      const r = parseAll([bodyFrame(1, Buffer.alloc(200_000))], 0, false);
      expect(r.frames[0]!.payload.length).to.equal(200_000);
    });

    it('applies a frame_max changed by the handler from the next frame on', () => {
      const r = new Recorder();
      const p: FrameParser = new FrameParser(
        { onProtocolHeader: () => {}, onFrame: (t, c, pl, o) => { r.onFrame(t, c, pl, o); p.frameMax = 4096; } },
        131072,
        { protocolHeader: false },
      );
      p.push(bodyFrame(1, Buffer.alloc(10_000)));
      expect(r.frames).to.have.length(1);
      expectFrameError(() => p.push(bodyFrame(1, Buffer.alloc(10_000))), /\{frame_too_large,10000,4088\}/);
      expect(r.frames).to.have.length(1);
    });

    it('rejects an unknown frame type from its header', () => {
      for (const type of [0, 4, 9, 0xce, 0xff]) {
        const p = new FrameParser(new Recorder(), FRAME_MAX, { protocolHeader: false });
        expectFrameError(
          () => p.push(rawFrame(type, 2, Buffer.alloc(0), { noEnd: true })),
          new RegExp(`^unknown_frame: unknown frame type ${type} on channel 2$`),
        );
      }
    });

    it('ignores input after an error (the parser is not to be used again)', () => {
      const r = new Recorder();
      const p = new FrameParser(r, FRAME_MAX, { protocolHeader: false });
      expect(() => p.push(rawFrame(9, 0, Buffer.alloc(0)))).to.throw(AmqpError);
      p.push(heartbeatFrame());
      expect(r.frames).to.have.length(0);
      expect(p.failed).to.equal(true);
    });

    it('throws only AmqpError 501 on random input after a valid header (fuzz)', () => {
      fc.assert(
        fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { maxLength: 10 }), (chunks) => {
          const p = new FrameParser(new Recorder(), FRAME_MAX);
          try {
            p.push(protocolHeader());
            for (const c of chunks) p.push(Buffer.from(c));
          } catch (e) {
            if (!(e instanceof AmqpError) || e.replyCode !== 501) throw e;
          }
        }),
        { numRuns: 1000 },
      );
    });
  });

  describe('handler exceptions', () => {
    it('propagate out of push, and the next frames stay pending for the next push', () => {
      const seen: string[] = [];
      const p = new FrameParser(
        {
          onProtocolHeader: () => {},
          onFrame: (_t, _c, payload) => {
            const s = payload.toString();
            seen.push(s);
            if (s === 'boom') throw new Error('handler failed');
          },
        },
        FRAME_MAX,
        { protocolHeader: false },
      );
      const chunk = Buffer.concat(['a', 'boom', 'b', 'c'].map((s) => bodyFrame(1, s)));
      expect(() => p.push(chunk)).to.throw('handler failed');
      expect(seen).to.deep.equal(['a', 'boom']);
      expect(p.failed).to.equal(false);
      p.push(Buffer.alloc(0));
      expect(seen).to.deep.equal(['a', 'boom', 'b', 'c']);
    });
  });

  it('reset() returns to the protocol-header state and drops pending bytes', () => {
    const r = new Recorder();
    const p = new FrameParser(r, FRAME_MAX);
    p.push(Buffer.concat([protocolHeader(), heartbeatFrame().subarray(0, 3)]));
    expect(p.pendingBytes).to.equal(3);
    p.reset();
    expect(p.pendingBytes).to.equal(0);
    p.push(Buffer.concat([protocolHeader(), heartbeatFrame()]));
    expect(r.headers).to.have.length(2);
    expect(r.frames).to.have.length(1);
  });
});
