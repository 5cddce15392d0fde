/**
 * The RabbitMQ tutorials as shipped with amqplib (node_modules/amqplib/examples/tutorials), run as
 * child processes against Warren, unchanged except for the broker URL. Two of them
 * (receive_logs_direct, receive_logs_topic) load amqplib as require('../..'), the package root seen
 * from examples/tutorials; the copies keep that layout, with a one-line index.js at the root that
 * re-exports the installed amqplib.
 */
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, readdirSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { startTestBroker, type TestBroker } from '../support/broker.js';
import { ScriptProcess } from '../support/child-script.js';
import { QueueWaits } from '../../src/testing/wait.js';

const require = createRequire(import.meta.url);
const AMQPLIB_MAIN = require.resolve('amqplib');
const AMQPLIB_DIR = path.dirname(AMQPLIB_MAIN);
const NODE_MODULES = path.dirname(AMQPLIB_DIR);
const TUTORIALS = path.join(AMQPLIB_DIR, 'examples', 'tutorials');

describe('amqplib tutorials, run unchanged against Warren', function () {
  // Each test starts a few node processes (~100 ms each) and one worker task sleeps 2 s by design.
  this.timeout(30000);

  let broker: TestBroker;
  let root: string;
  let dir: string;
  const children: ScriptProcess[] = [];

  before(async () => {
    broker = await startTestBroker();
    root = mkdtempSync(path.join(os.tmpdir(), 'warren-tutorials-'));
    dir = path.join(root, 'examples', 'tutorials');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(root, 'index.js'), "module.exports = require('amqplib');\n");
    for (const name of readdirSync(TUTORIALS).filter((f) => f.endsWith('.js'))) {
      const source = readFileSync(path.join(TUTORIALS, name), 'utf8');
      const copy = source.split('amqp://localhost').join(broker.url);
      // Exactly one URL per script is what "unchanged except the URL" means.
      expect(source.split('amqp://localhost').length - 1, name).to.equal(1);
      writeFileSync(path.join(dir, name), copy);
    }
  });

  after(async () => {
    await broker.close();
    rmSync(root, { recursive: true, force: true });
  });

  afterEach(async () => {
    // Consumers are stopped by the tests with Ctrl+C; anything left (a failed test) is killed here.
    for (const c of children.splice(0)) await c.kill();
  });

  function run(script: string, ...args: string[]): ScriptProcess {
    // NODE_PATH: the copies live in a temp folder with no node_modules above it.
    const env = { ...process.env, NODE_PATH: NODE_MODULES };
    const p = new ScriptProcess(path.join(dir, script), args, { cwd: dir, env });
    children.push(p);
    return p;
  }

  /** A consumer script, up and consuming once it prints its "Waiting" line. */
  async function consumer(script: string, ...args: string[]): Promise<ScriptProcess> {
    const p = run(script, ...args);
    await p.waitForLine(/^ \[\*\] Waiting for/);
    return p;
  }

  /** Resolves once `line` has been printed `n` times. */
  function nthLine(p: ScriptProcess, line: string, n: number): Promise<string> {
    return p.waitForLine((l) => l === line && p.lines.filter((x) => x === line).length >= n);
  }

  /** Ctrl+C a consumer; it closes its channel and connection cleanly and exits 0. */
  async function stop(p: ScriptProcess): Promise<void> {
    await p.interrupt();
    expect(p.exitCode, p.describe()).to.equal(0);
  }

  it('1 hello world: send.js then receive.js, then another send.js while receive.js runs', async () => {
    expect(await run('send.js').succeeds()).to.deep.equal([" [x] Sent 'Hello World!'"]);
    const receive = await consumer('receive.js');
    const received = " [x] Received 'Hello World!'";
    await receive.waitForLine(received);
    await run('send.js').succeeds();
    await nthLine(receive, received, 2);
    await stop(receive);
    // The queued message may be printed before " [*] Waiting" (it arrives right behind consume-ok).
    expect([...receive.lines].sort()).to.deep.equal([' [*] Waiting for messages. To exit press CTRL+C', received, received]);
    expect(receive.stderr).to.equal('');
  });

  it('2 work queues: new_task.js and two worker.js share tasks fairly (prefetch 1, ack after work)', async () => {
    const a = await consumer('worker.js');
    const b = await consumer('worker.js');
    // Two dots: the worker that takes this one is busy for two seconds and, with prefetch 1 and no ack
    // yet, gets nothing else until it is done.
    expect(await run('new_task.js', 'slow..').succeeds()).to.deep.equal([" [x] Sent 'slow..'"]);
    const slowLine = " [x] Received 'slow..'";
    const busy = await Promise.race([a.waitForLine(slowLine).then(() => a), b.waitForLine(slowLine).then(() => b)]);
    const free = busy === a ? b : a;
    await Promise.all(['one', 'two', 'three'].map((t) => run('new_task.js', t).succeeds()));
    for (const t of ['one', 'two', 'three']) await free.waitForLine(` [x] Received '${t}'`);
    await busy.waitForLine(' [x] Done');
    expect(busy.lines).to.deep.equal([' [*] Waiting for messages. To exit press CTRL+C', slowLine, ' [x] Done']);
    expect(free.lines.filter((l) => l.startsWith(' [x] Received')).sort()).to.deep.equal(
      [" [x] Received 'one'", " [x] Received 'three'", " [x] Received 'two'"]);
    await nthLine(free, ' [x] Done', 3);
    // Every task acked before Ctrl+C: a worker prints "Done" before it acks, and amqplib may put its
    // connection.close on the wire ahead of an ack still queued for channel 1 (the broker then requeues
    // that task to the other worker, as RabbitMQ would). So wait for the broker to have all four acks.
    const waits = new QueueWaits(broker.warren.broker, '/');
    await waits.until('task_queue', (q) => q !== undefined && q.messageCount === 0 && q.unackedCount === 0);
    await stop(a);
    await stop(b);
    const queue = broker.warren.broker.vhost('/')!.queues.get('task_queue');
    expect(queue?.messageCount).to.equal(0);
  });

  it('3 publish/subscribe: emit_log.js reaches every receive_logs.js', async () => {
    const r1 = await consumer('receive_logs.js');
    const r2 = await consumer('receive_logs.js');
    expect(await run('emit_log.js', 'info:', 'fanned', 'out').succeeds()).to.deep.equal([" [x] Sent 'info: fanned out'"]);
    await r1.waitForLine(" [x] 'info: fanned out'");
    await r2.waitForLine(" [x] 'info: fanned out'");
    await stop(r1);
    await stop(r2);
    // Their exclusive server-named queues went with their connections.
    const queues = [...broker.warren.broker.vhost('/')!.queues.keys()].filter((q) => q.startsWith('amq.gen-'));
    expect(queues).to.deep.equal([]);
  });

  it('4 routing: emit_log_direct.js reaches only the receive_logs_direct.js bound to its severity', async () => {
    const errors = await consumer('receive_logs_direct.js', 'warning', 'error');
    const infos = await consumer('receive_logs_direct.js', 'info');
    // Sent in sequence: each receiver's queue is FIFO, so the last message it gets proves it got no
    // unwanted message before it.
    await run('emit_log_direct.js', 'error', 'Run.', 'Run.', 'Or', 'it', 'will', 'explode.').succeeds();
    await run('emit_log_direct.js', 'info', 'all', 'fine').succeeds();
    await run('emit_log_direct.js', 'warning', 'hmm').succeeds();
    await run('emit_log_direct.js', 'debug', 'nobody listens').succeeds();
    await run('emit_log_direct.js', 'info', 'last').succeeds();
    await errors.waitForLine(" [x] warning:'hmm'");
    await infos.waitForLine(" [x] info:'last'");
    await stop(errors);
    await stop(infos);
    expect(errors.lines.slice(1)).to.deep.equal([" [x] error:'Run. Run. Or it will explode.'", " [x] warning:'hmm'"]);
    expect(infos.lines.slice(1)).to.deep.equal([" [x] info:'all fine'", " [x] info:'last'"]);
  });

  it('5 topics: emit_log_topic.js routed by pattern to receive_logs_topic.js', async () => {
    const all = await consumer('receive_logs_topic.js', '#');
    const kern = await consumer('receive_logs_topic.js', 'kern.*');
    const critical = await consumer('receive_logs_topic.js', '*.critical');
    const both = await consumer('receive_logs_topic.js', 'kern.*', '*.critical');
    const send = (key: string, text: string): Promise<string[]> => run('emit_log_topic.js', key, text).succeeds();
    await send('kern.critical', 'A critical kernel error');
    await send('kern.info', 'kernel chatter');
    await send('cron.critical', 'cron is down');
    await send('anonymous.info', 'who');
    await send('kern.deep.nested', 'not one word');
    await send('end.critical', 'end');
    await send('kern.end', 'end');
    await all.waitForLine(" [x] kern.end:'end'");
    await kern.waitForLine(" [x] kern.end:'end'");
    await critical.waitForLine(" [x] end.critical:'end'");
    await both.waitForLine(" [x] kern.end:'end'");
    for (const p of [all, kern, critical, both]) await stop(p);
    const keys = (p: ScriptProcess): string[] => p.lines.slice(1).map((l) => /^ \[x\] ([^:]+):/.exec(l)![1]!);
    expect(keys(all)).to.deep.equal(['kern.critical', 'kern.info', 'cron.critical', 'anonymous.info', 'kern.deep.nested', 'end.critical', 'kern.end']);
    expect(keys(kern)).to.deep.equal(['kern.critical', 'kern.info', 'kern.end']);
    expect(keys(critical)).to.deep.equal(['kern.critical', 'cron.critical', 'end.critical']);
    // Two matching bindings, one copy per queue.
    expect(keys(both)).to.deep.equal(['kern.critical', 'kern.info', 'cron.critical', 'end.critical', 'kern.end']);
  });

  it('6 RPC: rpc_client.js gets fib(n) from rpc_server.js through a reply queue', async () => {
    const server = run('rpc_server.js');
    await server.waitForLine(' [x] Awaiting RPC requests. To exit press CTRL+C.');
    expect(await run('rpc_client.js', '30').succeeds()).to.deep.equal([' [x] Requesting fib(30)', ' [.] Got 832040']);
    const [x, y] = await Promise.all([run('rpc_client.js', '10').succeeds(), run('rpc_client.js', '1').succeeds()]);
    expect(x).to.deep.equal([' [x] Requesting fib(10)', ' [.] Got 55']);
    expect(y).to.deep.equal([' [x] Requesting fib(1)', ' [.] Got 1']);
    await stop(server);
    expect(server.lines.slice(1).sort()).to.deep.equal([' [.] fib(1)', ' [.] fib(10)', ' [.] fib(30)']);
  });
});
