import { expect } from 'chai';
import {
  type CliCommand, type ConfigFileLoader, mergeConfig, OPTION_LIST, parseCommandLine, parseFlags, readEnv,
} from '../../../src/cli/args.js';
import { type BrokerConfig, DEFAULT_CONFIG } from '../../../src/config.js';
import { cliError } from '../../support/cli-error.js';

const noFile: ConfigFileLoader = (file) => {
  throw new Error(`no config file expected, asked for ${file}`);
};

function run(argv: string[], env: Record<string, string> = {}, load: ConfigFileLoader = noFile): BrokerConfig {
  const command: CliCommand = parseCommandLine(argv, env, load);
  if (command.action !== 'run') throw new Error(`expected run, got ${command.action}`);
  return command.config;
}

/** One non-default textual value per option, and what it parses to. */
const SAMPLES: { [K in keyof BrokerConfig]: [string, BrokerConfig[K]] } = {
  host: ['127.0.0.1', '127.0.0.1'],
  port: ['5673', 5673],
  dataDir: ['/var/lib/warren', '/var/lib/warren'],
  store: ['memory', 'memory'],
  fsync: ['true', true],
  memoryBudget: ['67108864', 67108864],
  logLevel: ['debug', 'debug'],
  logFormat: ['json', 'json'],
  defaultUser: ['admin', 'admin'],
  defaultPass: ['s3cret', 's3cret'],
  defaultVhost: ['/prod', '/prod'],
  loopbackUsers: ['guest,admin', ['guest', 'admin']],
  heartbeat: ['30', 30],
  frameMax: ['8192', 8192],
  channelMax: ['100', 100],
  maxMessageSize: ['1048576', 1048576],
  handshakeTimeout: ['5000', 5000],
  tlsPort: ['5671', 5671],
  tlsCert: ['/etc/warren/cert.pem', '/etc/warren/cert.pem'],
  tlsKey: ['/etc/warren/key.pem', '/etc/warren/key.pem'],
  tlsCa: ['/etc/warren/ca.pem', '/etc/warren/ca.pem'],
  tlsVerifyPeer: ['true', true],
  tlsFailIfNoPeerCert: ['true', true],
  tlsKeyPassword: ['s3cret', 's3cret'],
};

describe('cli/args', () => {
  it('gives the defaults when nothing is set', () => {
    expect(run([])).to.deep.equal(DEFAULT_CONFIG);
  });

  it('has a flag, an environment variable and a config key for every BrokerConfig field', () => {
    expect(OPTION_LIST.map((o) => o.key).sort()).to.deep.equal(Object.keys(DEFAULT_CONFIG).sort());
    for (const o of OPTION_LIST) {
      expect(o.env, o.key).to.match(/^WARREN_[A-Z_]+$/);
      expect(o.env, o.key).to.equal(`WARREN_${o.flag.toUpperCase().replace(/-/g, '_')}`);
    }
  });

  for (const spec of OPTION_LIST) {
    const [text, value] = SAMPLES[spec.key];
    it(`sets ${spec.key} from --${spec.flag} and from ${spec.env}`, () => {
      const argv = spec.arg === undefined ? [`--${spec.flag}`] : [`--${spec.flag}`, text];
      expect(run(argv)[spec.key]).to.deep.equal(value);
      expect(run([], { [spec.env]: text })[spec.key]).to.deep.equal(value);
      expect(value).to.not.deep.equal(DEFAULT_CONFIG[spec.key]);
    });
  }

  it('accepts --flag=value', () => {
    expect(run(['--port=1234', '--host=::1']).port).to.equal(1234);
  });

  it('ranks flags over the environment over the config file over the defaults', () => {
    const load: ConfigFileLoader = () => ({ port: 1111, heartbeat: 11, defaultUser: 'file', frameMax: 9000 });
    const config = run(
      ['--config', 'w.json', '--port', '3333'],
      { WARREN_PORT: '2222', WARREN_HEARTBEAT: '22' },
      load,
    );
    expect(config.port).to.equal(3333);
    expect(config.heartbeat).to.equal(22);
    expect(config.defaultUser).to.equal('file');
    expect(config.frameMax).to.equal(9000);
    expect(config.channelMax).to.equal(DEFAULT_CONFIG.channelMax);
  });

  it('takes the config file from --config before WARREN_CONFIG', () => {
    const asked: string[] = [];
    const load: ConfigFileLoader = (file) => {
      asked.push(file);
      return {};
    };
    run(['--config', 'flag.json'], { WARREN_CONFIG: 'env.json' }, load);
    run([], { WARREN_CONFIG: 'env.json' }, load);
    expect(asked).to.deep.equal(['flag.json', 'env.json']);
    const command = parseCommandLine([], { WARREN_CONFIG: 'env.json' }, load);
    expect(command.action === 'run' && command.configFile).to.equal('env.json');
  });

  it('turns fsync off with --no-fsync even when the environment turns it on', () => {
    expect(run(['--no-fsync'], { WARREN_FSYNC: 'true' }).fsync).to.equal(false);
    expect(run([], { WARREN_FSYNC: 'yes' }).fsync).to.equal(true);
    expect(run([], { WARREN_FSYNC: '0' }).fsync).to.equal(false);
  });

  it('treats an empty environment variable as unset', () => {
    expect(run([], { WARREN_PORT: '', WARREN_HOST: '', WARREN_CONFIG: '' })).to.deep.equal(DEFAULT_CONFIG);
  });

  it('reads the RabbitMQ forms: channel_max 0 is 65535, loopback users "none" is nobody', () => {
    expect(run(['--channel-max', '0']).channelMax).to.equal(65535);
    expect(run(['--loopback-users', 'none']).loopbackUsers).to.deep.equal([]);
    expect(run(['--loopback-users', '']).loopbackUsers).to.deep.equal([]);
    expect(run([], { WARREN_LOOPBACK_USERS: ' a , b,a ' }).loopbackUsers).to.deep.equal(['a', 'b']);
  });

  it('accepts port 0 and a bracketed IPv6 host', () => {
    const config = run(['--port', '0', '--host', '[::1]']);
    expect(config.port).to.equal(0);
    expect(config.host).to.equal('::1');
  });

  it('answers --help and --version before reading the environment or a config file', () => {
    expect(parseCommandLine(['--help'], { WARREN_PORT: 'nope' }, noFile)).to.deep.equal({ action: 'help' });
    expect(parseCommandLine(['-h', '--config', 'x.json'], {}, noFile)).to.deep.equal({ action: 'help' });
    expect(parseCommandLine(['--version'], { WARREN_PORT: 'nope' }, noFile)).to.deep.equal({ action: 'version' });
    expect(parseCommandLine(['-v'], {}, noFile)).to.deep.equal({ action: 'version' });
  });

  it('refuses unknown flags, positionals and missing values with one-line reasons', () => {
    expect(cliError(() => parseFlags(['--bogus']))).to.equal("unknown option '--bogus' (see warren --help)");
    expect(cliError(() => parseFlags(['-x']))).to.equal("unknown option '-x' (see warren --help)");
    expect(cliError(() => parseFlags(['--no-port']))).to.match(/unknown option '--no-port'/);
    expect(cliError(() => parseFlags(['--no-help']))).to.match(/unknown option '--no-help'/);
    expect(cliError(() => parseFlags(['serve']))).to.match(/^unexpected argument 'serve'/);
    expect(cliError(() => parseFlags(['--port']))).to.equal('--port: needs a value');
    expect(cliError(() => parseFlags(['--port', '--host', 'x']))).to.equal('--port: needs a value');
    expect(cliError(() => parseFlags(['--fsync=yes']))).to.equal('--fsync: takes no value');
    expect(cliError(() => parseFlags(['--config=']))).to.match(/--config/);
  });

  it('refuses bad values, naming where they came from', () => {
    expect(cliError(() => parseFlags(['--port', 'abc']))).to.equal('--port: "abc" is not a port number (0-65535)');
    expect(cliError(() => parseFlags(['--port', '65536']))).to.equal('--port: "65536" is out of range (0-65535)');
    expect(cliError(() => parseFlags(['--port', '-1']))).to.match(/^--port: /);
    expect(cliError(() => parseFlags(['--port', '1e3']))).to.match(/not a port number/);
    expect(cliError(() => parseFlags(['--store', 'disk']))).to.equal('--store: "disk" is not one of level, memory');
    expect(cliError(() => parseFlags(['--log-level', 'verbose']))).to.match(/is not one of error, warn, info, debug, silent/);
    expect(cliError(() => parseFlags(['--frame-max', '4095']))).to.match(/^--frame-max: "4095" is out of range \(4096-/);
    expect(cliError(() => parseFlags(['--max-message-size', '536870913']))).to.match(/out of range/);
    expect(cliError(() => parseFlags(['--max-message-size', '0']))).to.match(/out of range/);
    expect(cliError(() => parseFlags(['--heartbeat', '65536']))).to.match(/out of range/);
    expect(cliError(() => parseFlags(['--host', '']))).to.equal('--host: "" must not be empty');
    expect(cliError(() => parseFlags(['--default-user', '']))).to.match(/must not be empty/);
    expect(cliError(() => parseFlags(['--loopback-users', 'a,,b']))).to.match(/empty user name/);
    expect(cliError(() => readEnv({ WARREN_PORT: 'x' }))).to.equal('WARREN_PORT: "x" is not a port number (0-65535)');
    expect(cliError(() => readEnv({ WARREN_FSYNC: 'maybe' }))).to.match(/^WARREN_FSYNC: "maybe" is not a boolean/);
  });

  it('merges layers without touching the defaults', () => {
    const merged = mergeConfig({ loopbackUsers: ['a'] }, { port: 1, host: undefined as unknown as string });
    expect(merged.loopbackUsers).to.deep.equal(['a']);
    expect(merged.port).to.equal(1);
    expect(merged.host).to.equal(DEFAULT_CONFIG.host);
    mergeConfig().loopbackUsers.push('x');
    expect(DEFAULT_CONFIG.loopbackUsers).to.deep.equal(['guest']);
  });
});
