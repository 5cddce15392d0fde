import { expect } from 'chai';
import path from 'node:path';
import { checkTlsOptions, mergeConfig } from '../../../src/cli/args.js';
import { parseConfigText } from '../../../src/cli/config-file.js';
import type { BrokerConfig } from '../../../src/config.js';
import { cliError } from '../../support/cli-error.js';

const BASE = path.resolve('/etc/warren');

function parse(json: unknown): Partial<BrokerConfig> {
  return parseConfigText(JSON.stringify(json), 'warren.json', BASE);
}

describe('cli: TLS settings (listeners.ssl.default, ssl_options.*)', () => {
  it('reads RabbitMQ\'s keys, anchoring relative file names at the config file', () => {
    expect(parse({
      'listeners.ssl.default': 5671,
      'ssl_options.certfile': 'certs/server.pem',
      'ssl_options.keyfile': '/abs/server.key',
      'ssl_options.cacertfile': 'ca.pem',
      'ssl_options.verify': 'verify_peer',
      'ssl_options.fail_if_no_peer_cert': true,
      'ssl_options.password': 'pw',
    })).to.deep.equal({
      tlsPort: 5671,
      tlsCert: path.join(BASE, 'certs/server.pem'),
      tlsKey: path.resolve('/abs/server.key'),
      tlsCa: path.join(BASE, 'ca.pem'),
      tlsVerifyPeer: true,
      tlsFailIfNoPeerCert: true,
      tlsKeyPassword: 'pw',
    });
  });

  it('reads the nested form the same way, and verify_none', () => {
    expect(parse({ listeners: { ssl: { default: '0' } }, ssl_options: { verify: 'verify_none', fail_if_no_peer_cert: 'false' } }))
      .to.deep.equal({ tlsPort: 0, tlsVerifyPeer: false, tlsFailIfNoPeerCert: false });
  });

  it('accepts an address in listeners.ssl.default only when it is the plain listener\'s', () => {
    expect(parse({ 'listeners.tcp.default': '127.0.0.1:5672', 'listeners.ssl.default': '127.0.0.1:5671' }))
      .to.deep.equal({ host: '127.0.0.1', port: 5672, tlsPort: 5671 });
    expect(cliError(() => parse({ 'listeners.ssl.default': '0.0.0.0:5671' }))).to.equal(
      'config file warren.json: listeners.ssl.default: the TLS listener uses the address of listeners.tcp.default (not set), '
      + 'not 0.0.0.0: give a port only',
    );
  });

  it('refuses bad values and unknown ssl_options keys, naming the key', () => {
    expect(cliError(() => parse({ 'ssl_options.verify': 'verify_maybe' })))
      .to.equal('config file warren.json: ssl_options.verify: "verify_maybe" is not one of verify_peer, verify_none');
    expect(cliError(() => parse({ 'ssl_options.fail_if_no_peer_cert': 'sometimes' })))
      .to.equal('config file warren.json: ssl_options.fail_if_no_peer_cert: "sometimes" is not a boolean (true or false)');
    expect(cliError(() => parse({ 'listeners.ssl.default': 'tls' })))
      .to.equal('config file warren.json: listeners.ssl.default: "tls" is not a port number (0-65535)');
    expect(cliError(() => parse({ 'ssl_options.certfile': '' })))
      .to.equal('config file warren.json: ssl_options.certfile: "" must not be empty');
    expect(cliError(() => parse({ 'ssl_options.depth': 2 }))).to.match(/ssl_options\.depth: unknown key/);
  });

  it('checkTlsOptions: a TLS port needs a certificate and a key; fail_if_no_peer_cert needs verify_peer', () => {
    expect(() => checkTlsOptions(mergeConfig({}))).to.not.throw();
    // Files without a port: no listener, nothing to refuse (RabbitMQ keeps ssl_options for other uses too).
    expect(() => checkTlsOptions(mergeConfig({ tlsCert: 'c.pem' }))).to.not.throw();
    expect(cliError(() => checkTlsOptions(mergeConfig({ tlsPort: 5671, tlsCert: 'c.pem' }))))
      .to.equal('--tls-port needs --tls-cert and --tls-key (ssl_options.certfile and ssl_options.keyfile)');
    expect(cliError(() => checkTlsOptions(mergeConfig({ tlsPort: 5671, tlsCert: 'c.pem', tlsKey: 'k.pem', tlsFailIfNoPeerCert: true }))))
      .to.equal('--tls-fail-if-no-peer-cert needs --tls-verify-peer (ssl_options.verify = verify_peer)');
    expect(() => checkTlsOptions(mergeConfig({
      tlsPort: 5671, tlsCert: 'c.pem', tlsKey: 'k.pem', tlsVerifyPeer: true, tlsFailIfNoPeerCert: true,
    }))).to.not.throw();
  });
});
