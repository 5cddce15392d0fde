/**
 * Fuzzing the broker with mutated real conversations: the client → server bytes of amqplib
 * conversations (test/support/recorded-conversations.ts) are mutated with a seeded PRNG and replayed
 * blind over raw sockets. Throughout: no exception escapes the broker (process-level traps), no input
 * makes it answer 541 INTERNAL_ERROR (that is Warren's "this is a bug" reply), every fuzzed connection
 * ends (by the server, or by the test after a short idle) and is gone from the server afterwards, a
 * healthy amqplib connection opened first keeps working after every batch, and the heap stays bounded.
 *
 * Reproduce a run with WARREN_FUZZ_SEED=<seed printed at the start>; failure messages name the
 * iteration, its seed and its mutations. WARREN_FUZZ_BATCHES=<n> runs longer (default 12 batches, ~10 s);
 * WARREN_FUZZ_DEBUG=1 logs every replay to stderr.
 */
import { once } from 'node:events';
import { Writable } from 'node:stream';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect } from 'chai';
import amqp from 'amqplib';
import winston from 'winston';
import { startTestBroker, type TestBroker } from '../support/broker.js';
import { recordConversations } from '../support/conversation-recorder.js';
import { type Mutated, type ReplayOutcome, iterationSeed, mutate, prng, replay } from '../support/fuzz-peer.js';
import { RECORDED_CONVERSATIONS } from '../support/recorded-conversations.js';
import { connectionForClientPort, serverConnections } from '../support/warren-internals.js';
import { heartbeatFrame, methods } from '../support/frame-builder.js';
import { RawPeer } from '../support/raw-peer.js';

const SEED = process.env.WARREN_FUZZ_SEED !== undefined ? Number(process.env.WARREN_FUZZ_SEED) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
const BATCHES = Number(process.env.WARREN_FUZZ_BATCHES ?? 12);
const PER_BATCH = 48;
const CONCURRENCY = 12;
const REPLAY = { idleMs: 150, capMs: 5000 } as const;
/** How long the server may take to notice that a client has gone (it is milliseconds when healthy). */
const LEAK_GUARD_MS = 5000;
/** Heap growth allowed between the first and the last batch, after a forced GC. */
const HEAP_BOUND = 24 * 1024 * 1024;

const CONVERSATIONS: ReadonlyArray<readonly [string, Buffer[]]> = Object.entries(RECORDED_CONVERSATIONS)
  .map(([name, frames]) => [name, frames.map((f) => Buffer.from(f, 'base64'))] as const);

/** A forced GC without --expose-gc on the command line: V8 exposes gc() to contexts created after this. */
function forcedGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Captures what the broker logs at error level (its "internal error" line carries the stack). */
function errorCapture(): { errors: string[]; logger: winston.Logger } {
  const errors: string[] = [];
  const stream = new Writable({
    objectMode: true,
    write(info: Record<string, unknown>, _enc, next) {
      errors.push(`${String(info.message)} ${String(info.error ?? '')}`);
      next();
    },
  });
  return { errors, logger: winston.createLogger({ level: 'error', transports: [new winston.transports.Stream({ stream })] }) };
}

/**
 * Waits for the server side of every connection but `keep` to close; the clients have all gone, so
 * this is quick unless the broker leaked one. The guard turns such a leak into a failure that says
 * which connection, rather than a hang.
 */
async function serverConnectionsGone(broker: TestBroker, keep: number, guardMs: number): Promise<Array<{ port: number; what: string }>> {
  const left = serverConnections(broker.warren).filter((c) => c.socket.remotePort !== keep && !c.socket.closed);
  if (left.length === 0) return [];
  let guard: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'guard'>((resolve) => { guard = setTimeout(() => resolve('guard'), guardMs); });
  const result = await Promise.race([Promise.all(left.map((c) => once(c.socket, 'close'))), timedOut]);
  clearTimeout(guard);
  if (result !== 'guard') return [];
  return left.filter((c) => !c.socket.closed).map((c) => {
    const internals = c as unknown as { socketBlocked: boolean; storeBlocked: boolean };
    return {
      port: c.socket.remotePort ?? 0,
      what: `connection ${c.id}: state ${c.state}, socket paused ${c.socket.isPaused()}, writableEnded ${c.socket.writableEnded}, `
        + `socketBlocked ${internals.socketBlocked}, storeBlocked ${internals.storeBlocked}`,
    };
  });
}

describe('fuzz: mutated amqplib conversations replayed against the broker', function () {
  this.timeout(120000);

  const trapped: string[] = [];
  const onUncaught = (err: unknown): void => { trapped.push(`uncaughtException: ${err instanceof Error ? err.stack : String(err)}`); };
  const onRejection = (err: unknown): void => { trapped.push(`unhandledRejection: ${err instanceof Error ? err.stack : String(err)}`); };
  let capture: { errors: string[] };
  let broker: TestBroker;
  let healthy: amqp.ChannelModel;
  let healthyChannel: amqp.Channel;
  let healthyPort: number;

  before(async () => {
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onRejection);
    const c = errorCapture();
    capture = c;
    broker = await startTestBroker({ logger: c.logger });
    healthy = await amqp.connect(broker.url);
    healthyChannel = await healthy.createChannel();
    healthyPort = (healthy.connection as unknown as { stream: { localPort: number } }).stream.localPort;
    await healthyChannel.assertQueue('fuzz-healthy', { durable: false });
  });

  after(async () => {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onRejection);
    await healthy.close();
    await broker.close();
  });

  async function roundTrip(tag: string): Promise<void> {
    healthyChannel.sendToQueue('fuzz-healthy', Buffer.from(tag), { headers: { tag } });
    const m = await healthyChannel.get('fuzz-healthy', { noAck: true });
    expect(m && m.content.toString(), `healthy connection after ${tag}`).to.equal(tag);
  }

  it('has recordings that are still exactly what amqplib sends (connection.start-ok aside)', async () => {
    const live = await recordConversations(broker.warren.port);
    expect(Object.keys(live)).to.deep.equal(CONVERSATIONS.map(([n]) => n));
    for (const [name, frames] of CONVERSATIONS) {
      const now = live[name]!;
      expect(now.length, name).to.equal(frames.length);
      // Frame 1 is start-ok: its client properties name the platform and amqplib version.
      now.forEach((f, i) => {
        if (i !== 1) expect(f.toString('hex'), `${name} frame ${i}`).to.equal(frames[i]!.toString('hex'));
      });
    }
    await roundTrip('recording');
  });

  it('replays every recorded conversation unmutated, blind, to a clean close', async () => {
    for (const [name, frames] of CONVERSATIONS) {
      for (const split of [false, true]) {
        const bytes = Buffer.concat(frames);
        const m: Mutated = {
          conversation: name, bytes, steps: [], answerCloses: true,
          chunks: split ? frames.map((f) => f.length) : [bytes.length],
        };
        const out = await replay(broker.warren.port, m, REPLAY);
        const what = `${name}${split ? ' frame by frame' : ' in one write'}: ${JSON.stringify(out)}`;
        expect(out.connectionCloses, what).to.deep.equal([]);
        expect(out.closeOk, what).to.equal(true);
        // After close-ok the socket is the client's to close (RabbitMQ's rabbit_reader waits for it too);
        // this blind peer never closes it, so it ends at idle.
        expect(out.endedBy, what).to.equal('idle');
        // The errors conversation provokes one 404 on purpose.
        expect(out.channelCloses, what).to.deep.equal(name === 'errors' ? [404] : []);
      }
    }
    expect(capture.errors).to.deep.equal([]);
    await roundTrip('unmutated');
  });

  it(`survives ${BATCHES} batches of ${PER_BATCH} mutated conversations (seed ${SEED})`, async () => {
    console.log(`      fuzz seed ${SEED} (WARREN_FUZZ_SEED=${SEED} to replay)`);
    const gc = forcedGc();
    const stats = { server: 0, idle: 0, cap: 0, headerRefused: 0 };
    const codes = new Map<number, number>();
    let heapAfterFirst = 0;
    let heapLast = 0;
    let iteration = 0;
    for (let batch = 0; batch < BATCHES; batch++) {
      const failures: string[] = [];
      const work: Array<{ i: number; seed: number; m: Mutated }> = [];
      for (let k = 0; k < PER_BATCH; k++, iteration++) {
        const seed = iterationSeed(SEED, iteration);
        const rand = prng(seed);
        const [name, frames] = CONVERSATIONS[Math.floor(rand() * CONVERSATIONS.length)]!;
        work.push({ i: iteration, seed, m: mutate(name, frames, rand) });
      }
      const errorsBefore = capture.errors.length;
      const byPort = new Map<number, string>();
      for (let at = 0; at < work.length; at += CONCURRENCY) {
        const slice = work.slice(at, at + CONCURRENCY);
        const outcomes = await Promise.all(slice.map((w) => replay(broker.warren.port, w.m, REPLAY)));
        outcomes.forEach((out: ReplayOutcome, j) => {
          const w = slice[j]!;
          stats[out.endedBy]++;
          if (out.headerRefused) stats.headerRefused++;
          for (const c of out.connectionCloses) codes.set(c, (codes.get(c) ?? 0) + 1);
          const repro = `iteration ${w.i} (seed ${w.seed}) ${w.m.conversation}: ${w.m.steps.join('; ')}`;
          byPort.set(out.localPort, repro);
          if (out.endedBy === 'cap') failures.push(`still talking after ${REPLAY.capMs} ms: ${repro}`);
          if (out.connectionCloses.includes(541)) failures.push(`541 INTERNAL_ERROR: ${repro}`);
        });
        if (capture.errors.length > errorsBefore) {
          failures.push(`broker logged errors during ${slice.map((w) => `iteration ${w.i} (seed ${w.seed})`).join(', ')}: ${capture.errors.slice(errorsBefore).join('\n')}`);
          break;
        }
      }
      // Every fuzzed connection is gone from the server too, not just from our side.
      const leaked = await serverConnectionsGone(broker, healthyPort, LEAK_GUARD_MS);
      for (const l of leaked) failures.push(`server connection still open ${LEAK_GUARD_MS} ms after its client left (${l.what}): ${byPort.get(l.port) ?? 'unknown iteration'}`);
      expect(trapped, 'exceptions escaped the broker').to.deep.equal([]);
      expect(failures, `batch ${batch}`).to.deep.equal([]);
      expect(broker.warren.server.connectionCount, 'connections left after the batch').to.equal(1);
      await roundTrip(`batch ${batch}`);
      gc();
      heapLast = process.memoryUsage().heapUsed;
      if (batch === 0) heapAfterFirst = heapLast;
    }
    console.log(`      ${iteration} connections: ended by server ${stats.server}, by idle ${stats.idle}; header refused ${stats.headerRefused}; `
      + `connection.close codes ${JSON.stringify(Object.fromEntries([...codes].sort((a, b) => a[0] - b[0])))}; `
      + `heap after first batch ${(heapAfterFirst / 1048576).toFixed(1)} MiB, after last ${(heapLast / 1048576).toFixed(1)} MiB`);
    expect(heapLast - heapAfterFirst, 'heap growth over the run').to.be.below(HEAP_BOUND);
  });
});

/**
 * Bugs the fuzzer found, pinned with deterministic reproducers. They fail until the broker is fixed;
 * each names the cause.
 */
describe('broker bugs found by fuzzing (pinned; fail until fixed)', () => {
  let broker: TestBroker;
  let conn: amqp.ChannelModel;
  before(async () => {
    broker = await startTestBroker();
    conn = await amqp.connect(broker.url);
  });
  after(async () => {
    await conn.close();
    await broker.close();
  });

  /**
   * src/server/connection.ts, connection.close from the client: `this.flush(); this.socket.end()`. When
   * that flush hands ≥ 16 KiB to the socket (here a 20 KB delivery made earlier in the same read),
   * socket.write returns false, so flush() sets socketBlocked and pauses the socket, waiting for
   * 'drain'. But end() follows, and a Writable that is ending never emits 'drain': the socket stays
   * paused for good. Anything the peer sends after its connection.close (a heartbeat, a crossing
   * frame) then sits unread, so the peer's FIN is never read either, 'close' never fires, and the
   * Connection (socket, fd, entry in Server.connections) lives until Warren.close() destroys it.
   */
  it('closes the server side of a connection whose close-ok flush hit backpressure', async () => {
    const ch = await conn.createChannel();
    await ch.assertQueue('pin-big', { durable: false });
    ch.sendToQueue('pin-big', Buffer.alloc(20000, 1));
    expect((await ch.checkQueue('pin-big')).messageCount).to.equal(1);

    const peer = await RawPeer.open(broker.warren.port);
    const server = connectionForClientPort(broker.warren, peer.socket.localPort!)!;
    expect(server, 'server side of the raw peer').to.not.equal(undefined);
    // One read: consume (the 20 KB delivery is written at once), then connection.close.
    peer.send(Buffer.concat([methods.channelOpen(1), methods.basicConsume(1, 'pin-big', '', { noAck: true }), methods.connectionClose()]));
    await peer.expectMethod(10, 51);
    peer.send(heartbeatFrame());
    peer.socket.end();
    await peer.socketClosed;

    let guard: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      server.socket.closed ? Promise.resolve('closed') : once(server.socket, 'close').then(() => 'closed'),
      new Promise<string>((resolve) => {
        guard = setTimeout(() => resolve(`still open 2 s after the client left: paused ${server.socket.isPaused()}, `
          + `writableEnded ${server.socket.writableEnded}, state ${server.state}`), 2000);
      }),
    ]);
    clearTimeout(guard);
    expect(outcome).to.equal('closed');
    expect(serverConnections(broker.warren).map((c) => c.id)).to.not.include(server.id);
    await ch.close();
  });
});
