import { expect } from 'chai';
import { AmqpError } from '../../../src/errors.js';
import {
  contentHeaderSize,
  readContentHeader,
  writeContentHeaderFrame,
} from '../../../src/protocol/content-header.js';
import { basicProperties, contentHeaderFrame, contentHeaderPayload } from '../../support/frame-builder.js';

function expectFrameError(fn: () => unknown, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an error').to.be.instanceOf(AmqpError);
  expect((caught as AmqpError).replyCode).to.equal(501);
  expect((caught as AmqpError).explanation).to.match(pattern);
}

describe('content header', () => {
  const props = basicProperties({ contentType: 'application/json', headers: [['x', ['I', 1]]], deliveryMode: 2 });

  it('reads class, weight, body size and the raw property bytes as a view', () => {
    const payload = contentHeaderPayload(60, 123456789, props);
    const h = readContentHeader(payload);
    expect(h.classId).to.equal(60);
    expect(h.weight).to.equal(0);
    expect(h.bodySize).to.equal(123456789);
    expect(h.properties.equals(props)).to.equal(true);
    expect(h.properties.buffer).to.equal(payload.buffer);
    expect(h.properties.byteOffset).to.equal(payload.byteOffset + 12);
  });

  it('reads body sizes up to 2^53 − 1 exactly and rejects larger ones', () => {
    expect(readContentHeader(contentHeaderPayload(60, 2 ** 32 + 5, props)).bodySize).to.equal(2 ** 32 + 5);
    const max = BigInt(Number.MAX_SAFE_INTEGER);
    expect(readContentHeader(contentHeaderPayload(60, max, props)).bodySize).to.equal(Number.MAX_SAFE_INTEGER);
    expectFrameError(() => readContentHeader(contentHeaderPayload(60, max + 1n, props)), /body size 9007199254740992 is too large/);
    expectFrameError(() => readContentHeader(contentHeaderPayload(60, 2n ** 64n - 1n, props)), /too large/);
  });

  it('rejects a payload too short for the fixed part and the property flags', () => {
    const full = contentHeaderPayload(60, 0, Buffer.from([0, 0]));
    expect(readContentHeader(full).properties.length).to.equal(2);
    for (let n = 0; n < 14; n++) {
      expectFrameError(() => readContentHeader(full.subarray(0, n)), new RegExp(`payload of ${n} bytes`));
    }
  });

  it('writes a whole header frame, identical to the independent builder', () => {
    for (const size of [0, 1, 4088, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
      const expected = contentHeaderFrame(5, 60, size, props);
      expect(contentHeaderSize(props.length)).to.equal(expected.length);
      const buf = Buffer.alloc(expected.length + 4, 0xaa);
      const end = writeContentHeaderFrame(buf, 2, 5, 60, size, props);
      expect(end).to.equal(2 + expected.length);
      expect(buf.subarray(2, end).equals(expected), `size ${size}`).to.equal(true);
      expect(buf[1]).to.equal(0xaa);
      expect(buf[end]).to.equal(0xaa);
    }
  });
});
