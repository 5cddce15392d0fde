import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliError, parseCommandLine } from '../../../src/cli/args.js';
import { loadConfigFile, parseConfigText } from '../../../src/cli/config-file.js';
import type { BrokerConfig } from '../../../src/config.js';

const BASE = path.resolve('/etc/warren');

function parse(json: unknown): Partial<BrokerConfig> {
  return parseConfigText(JSON.stringify(json), 'warren.json', BASE);
}

function failure(text: string): string {
  try {
    parseConfigText(text, 'warren.json', BASE);
  } catch (err) {
    expect(err).to.be.instanceOf(CliError);
    return (err as Error).message;
  }
  throw new Error('expected a CliError');
}

describe('cli/config-file', () => {
  it('reads every key, with RabbitMQ names where RabbitMQ has one', () => {
    expect(parse({
      'listeners.tcp.default': '127.0.0.1:5673',
      default_user: 'admin',
      default_pass: 'pw',
      default_vhost: '/prod',
      loopback_users: ['admin'],
      heartbeat: 30,
      frame_max: 8192,
      channel_max: 16,
      max_message_size: 1024,
      'log.console.level': 'warning',
      'log.console.formatter': 'json',
      data_dir: 'state',
      store: 'memory',
      fsync: true,
    })).to.deep.equal({
      host: '127.0.0.1', port: 5673, defaultUser: 'admin', defaultPass: 'pw', defaultVhost: '/prod',
      loopbackUsers: ['admin'], heartbeat: 30, frameMax: 8192, channelMax: 16, maxMessageSize: 1024,
      logLevel: 'warn', logFormat: 'json', dataDir: path.join(BASE, 'state'), store: 'memory', fsync: true,
    });
  });

  it('reads nested objects as dotted keys', () => {
    const nested = parse({ listeners: { tcp: { default: 5674 } }, log: { console: { level: 'debug', formatter: 'plaintext' } } });
    expect(nested).to.deep.equal(parse({ 'listeners.tcp.default': 5674, 'log.console.level': 'debug', 'log.console.formatter': 'plaintext' }));
    expect(nested).to.deep.equal({ port: 5674, logLevel: 'debug', logFormat: 'text' });
  });

  it('reads listeners.tcp.default as a port or an address and port', () => {
    expect(parse({ 'listeners.tcp.default': 5672 })).to.deep.equal({ port: 5672 });
    expect(parse({ 'listeners.tcp.default': '0' })).to.deep.equal({ port: 0 });
    expect(parse({ 'listeners.tcp.default': '0.0.0.0:5673' })).to.deep.equal({ host: '0.0.0.0', port: 5673 });
    expect(parse({ 'listeners.tcp.default': '[::1]:5674' })).to.deep.equal({ host: '::1', port: 5674 });
    expect(parse({ 'listeners.tcp.default': '::1:5675' })).to.deep.equal({ host: '::1', port: 5675 });
    expect(parse({ 'listeners.tcp.default': 'localhost:5676' })).to.deep.equal({ host: 'localhost', port: 5676 });
    expect(failure('{"listeners.tcp.default": "localhost:"}')).to.match(/listeners\.tcp\.default: "" is not a port number/);
    expect(failure('{"listeners.tcp.default": ":5672"}')).to.match(/listeners\.tcp\.default: "" must not be empty/);
    expect(failure('{"listeners.tcp.default": 70000}')).to.match(/out of range/);
  });

  it("maps RabbitMQ's log levels", () => {
    expect(parse({ 'log.console.level': 'none' }).logLevel).to.equal('silent');
    expect(parse({ 'log.console.level': 'critical' }).logLevel).to.equal('error');
    expect(parse({ 'log.default.level': 'debug' }).logLevel).to.equal('debug');
    expect(parse({ 'log.default.level': 'debug', 'log.console.level': 'error' }).logLevel).to.equal('error');
    expect(failure('{"log.console.level": "loud"}')).to.match(/log\.console\.level: "loud" is not one of debug, info, warning/);
  });

  it('reads loopback_users as a list, "none", or per-user switches', () => {
    expect(parse({ loopback_users: 'none' }).loopbackUsers).to.deep.equal([]);
    expect(parse({ loopback_users: [] }).loopbackUsers).to.deep.equal([]);
    expect(parse({ loopback_users: 'a,b' }).loopbackUsers).to.deep.equal(['a', 'b']);
    // rabbitmq.conf's `loopback_users.guest = false` takes guest off the default list.
    expect(parse({ 'loopback_users.guest': false }).loopbackUsers).to.deep.equal([]);
    expect(parse({ loopback_users: { guest: 'false', admin: true } }).loopbackUsers).to.deep.equal(['admin']);
    expect(parse({ loopback_users: ['x'], 'loopback_users.y': true }).loopbackUsers).to.deep.equal(['x', 'y']);
    expect(failure('{"loopback_users.guest": "perhaps"}')).to.match(/loopback_users\.guest: "perhaps" is not a boolean/);
  });

  it('keeps an absolute data_dir and anchors a relative one at the file', () => {
    expect(parse({ data_dir: '/srv/warren' }).dataDir).to.equal(path.resolve('/srv/warren'));
    expect(parse({ data_dir: '../data' }).dataDir).to.equal(path.resolve(BASE, '../data'));
  });

  it('refuses unknown keys, wrong types, bad JSON and non-objects, naming the file and key', () => {
    expect(failure('{"default_usr": "x"}')).to.match(/^config file warren\.json: default_usr: unknown key \(known: listeners\.tcp\.default, /);
    expect(failure('{"__proto__": {"port": 1}}')).to.match(/__proto__\.port: unknown key/);
    expect(failure('{"heartbeat": "soon"}')).to.equal('config file warren.json: heartbeat: "soon" is not an integer (0-65535)');
    expect(failure('{"heartbeat": [1]}')).to.match(/heartbeat: expected a string, number or boolean, got an array/);
    expect(failure('{"default_user": null}')).to.match(/default_user: expected a string, number or boolean, got null/);
    expect(failure('{"store": "disk"}')).to.match(/store: "disk" is not one of level, memory/);
    expect(failure('{"listeners": {"tcp": {"default": 1}}, "listeners.tcp.default": 2}')).to.match(/set twice/);
    expect(failure('{"port": 5672,}')).to.match(/^config file warren\.json: not valid JSON \(/);
    expect(failure('[1]')).to.equal('config file warren.json: must hold a JSON object');
    expect(failure('"x"')).to.equal('config file warren.json: must hold a JSON object');
  });

  describe('on disk', () => {
    let dir: string;
    beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-config-')); });
    afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

    it('loads a file, anchoring data_dir at its directory, under the environment and flags', () => {
      const file = path.join(dir, 'warren.json');
      fs.writeFileSync(file, JSON.stringify({ 'listeners.tcp.default': '127.0.0.1:5680', data_dir: 'db', heartbeat: 5 }));
      expect(loadConfigFile(file)).to.deep.equal({ host: '127.0.0.1', port: 5680, dataDir: path.join(dir, 'db'), heartbeat: 5 });
      const command = parseCommandLine(['--port', '0'], { WARREN_CONFIG: file, WARREN_HEARTBEAT: '7' }, loadConfigFile);
      expect(command.action).to.equal('run');
      if (command.action !== 'run') return;
      expect(command.config).to.include({ host: '127.0.0.1', port: 0, heartbeat: 7, dataDir: path.join(dir, 'db') });
    });

    it('says when the file is missing', () => {
      const file = path.join(dir, 'missing.json');
      expect(() => loadConfigFile(file)).to.throw(CliError, `config file ${file}: no such file`);
    });
  });
});
