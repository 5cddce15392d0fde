import { expect } from 'chai';
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/log.js';

/** A logger writing into an array; winston hands each line to the stream synchronously. */
function capture(format: 'text' | 'json', level: 'debug' | 'info' | 'silent' = 'info'): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter((l) => l !== ''));
      done();
    },
  });
  return { lines, log: createLogger(level, format, stream) };
}

const flushed = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('log formats', () => {
  it('text: time, level, message, then key=value fields, quoting only when needed', async () => {
    const { lines, log } = capture('text');
    log.child({ connection: 7, peer: '127.0.0.1:5555' }).info('connection opened', {
      user: 'guest', client: 'amqplib 0.10.4', vhost: '/', missing: undefined, big: 12n, ok: true, empty: '',
    });
    await flushed();
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info  connection opened /);
    expect(lines[0]).to.match(
      / connection opened connection=7 peer=127\.0\.0\.1:5555 user=guest client="amqplib 0\.10\.4" vhost=\/ big=12 ok=true empty=""$/,
    );
  });

  it('json: one object per line, fixed fields first, bigints as strings', async () => {
    const { lines, log } = capture('json');
    log.child({ connection: 7 }).warn('closing connection', { code: 320, big: 2n ** 64n, missing: undefined });
    await flushed();
    expect(lines).to.have.length(1);
    const obj = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(obj)).to.deep.equal(['timestamp', 'level', 'message', 'connection', 'code', 'big']);
    expect(obj).to.include({ level: 'warn', message: 'closing connection', connection: 7, code: 320, big: '18446744073709551616' });
  });

  it('keeps the line when a field cannot be serialised', async () => {
    const { lines, log } = capture('json');
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    log.info('still here', { loop });
    await flushed();
    expect(JSON.parse(lines[0]!)).to.include({ level: 'info', message: 'still here' });
  });

  it('respects the level, and silent logs nothing', async () => {
    const info = capture('text', 'info');
    info.log.debug('hidden');
    info.log.error('shown');
    const silent = capture('text', 'silent');
    silent.log.error('hidden');
    await flushed();
    expect(info.lines).to.have.length(1);
    expect(info.lines[0]).to.match(/ error shown$/);
    expect(silent.lines).to.deep.equal([]);
  });
});
