import { expect } from 'chai';
import { formatPeer, isLoopback } from '../../../src/server/peer-address.js';

describe('peer addresses', () => {
  it('treats 127.0.0.0/8 and ::1 (also v4-mapped) as loopback, like RabbitMQ loopback_users', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) expect(isLoopback(a), a).to.equal(true);
    for (const a of ['10.0.0.1', '192.168.1.5', '::ffff:10.0.0.1', 'fe80::1', '128.0.0.1', undefined]) expect(isLoopback(a), String(a)).to.equal(false);
  });

  it('formats peers for logs, IPv6 in brackets and v4-mapped as IPv4', () => {
    expect(formatPeer('127.0.0.1', 5000)).to.equal('127.0.0.1:5000');
    expect(formatPeer('::ffff:10.1.2.3', 5000)).to.equal('10.1.2.3:5000');
    expect(formatPeer('::1', 5000)).to.equal('[::1]:5000');
  });
});
