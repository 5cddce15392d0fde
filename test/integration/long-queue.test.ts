/**
 * A durable queue far longer than the memory budget (LevelDB store): bodies past the budget stay on
 * disk and are read back ahead of delivery. The broker's heap stays under
 *
 *     budget + PER_MESSAGE_BYTES × messages + CONSTANT_BYTES
 *
 * (per message: the paged-out Message stub, its QueueEntry and ring slot, about 170 bytes with V8's
 * 64-bit pointers; the constant covers read-ahead windows, store batches and client buffers). Then a
 * restart reads only the read-ahead window of message records, basic.get is served across paged-out
 * heads (the connection waits for the read instead of answering get-empty, frames after it included),
 * and a consumer drains the rest in order.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import amqp from 'amqplib';
import { expect } from 'chai';
import { READ_AHEAD_ENTRIES } from '../../src/broker/memory-budget.js';
import { Warren } from '../../src/warren.js';
import { type ParsedFrame, methodFrame, methods } from '../support/frame-builder.js';
import { RawPeer } from '../support/raw-peer.js';

const KIB = 1024;
const MIB = 1024 * KIB;
const BUDGET = 8 * MIB;
const COUNT = 200_000;
const SIZE = KIB;
/** The stated bound: see the header. */
const PER_MESSAGE_BYTES = 256;
const CONSTANT_BYTES = 24 * MIB;
const QUEUE = 'long';
/** Fetched with basic.get, pipelined, after the restart: well past the window recovery reads. */
const GETS = 3000;

function body(i: number): Buffer {
  const b = Buffer.alloc(SIZE, i % 251);
  b.writeUInt32BE(i, 0);
  return b;
}

/** A full collection, when the VM allows it (flags set at run time reach a new context's `gc`). */
function collector(): (() => void) | null {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as unknown;
  return typeof gc === 'function' ? gc as () => void : null;
}

async function heapUsed(gc: (() => void) | null): Promise<number> {
  // Twice, with a turn in between: finalizers and weak callbacks of the first pass free more.
  gc?.();
  await new Promise((resolve) => setImmediate(resolve));
  gc?.();
  return process.memoryUsage().heapUsed;
}

function startWarren(dataDir: string): Promise<Warren> {
  return Warren.start({ host: '127.0.0.1', port: 0, store: 'level', dataDir, memoryBudget: BUDGET, logLevel: 'silent' });
}

function method(f: ParsedFrame): string {
  return f.type === 1 ? `${f.payload.readUInt16BE(0)}.${f.payload.readUInt16BE(2)}` : `frame ${f.type}`;
}

describe('a durable queue far longer than the memory budget (LevelDB)', function () {
  this.timeout(90_000);
  let dir: string;
  let warren: Warren | undefined;
  const gc = collector();
  /** Without a collection to call, garbage counts too: a generous allowance for it. */
  const bound = BUDGET + PER_MESSAGE_BYTES * COUNT + CONSTANT_BYTES + (gc === null ? 96 * MIB : 0);

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'warren-long-'));
  });

  after(async () => {
    await warren?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('fills with bounded heap, restarts reading only the window, and drains in order with basic.get and a consumer', async () => {
    warren = await startWarren(dir);
    const baseline = await heapUsed(gc);
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${warren.port}`);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue(QUEUE, { durable: true });
    for (let i = 0; i < COUNT; i += 2000) {
      for (let k = i; k < i + 2000; k++) ch.sendToQueue(QUEUE, body(k), { persistent: true });
      await ch.waitForConfirms();
    }
    await conn.close();
    // Page-outs run once what they page is on disk: let the last ones happen.
    await warren.persistence.store.flush();
    await warren.persistence.store.flush();

    const queue = warren.broker.vhost('/')!.queues.get(QUEUE)!;
    const budget = warren.persistence.budget!;
    expect(queue.messageCount).to.equal(COUNT);
    expect(queue.pagedCount).to.be.greaterThan(COUNT - (BUDGET + 2 * MIB) / SIZE);
    expect(budget.residentBytes).to.be.at.most(BUDGET);
    const filledHeap = (await heapUsed(gc)) - baseline;
    expect(filledHeap, `heap ${filledHeap} bytes for ${COUNT} messages`).to.be.below(bound);
    // Without paging the bodies alone would be 200 MB.
    expect(filledHeap).to.be.below(COUNT * SIZE / 2);

    await warren.close();
    warren = undefined;
    const restartBaseline = await heapUsed(gc);
    warren = await startWarren(dir);
    const stats = warren.persistence.recoveryStats!;
    // Startup read the message records of one read-ahead window, no more.
    expect(stats.entries).to.equal(COUNT);
    expect(stats.entries - stats.paged).to.be.at.most(READ_AHEAD_ENTRIES);
    expect(stats.paged).to.be.greaterThan(COUNT - READ_AHEAD_ENTRIES - 1);
    expect(warren.persistence.budget!.pagedInCount).to.equal(0);
    const restartHeap = (await heapUsed(gc)) - restartBaseline;
    expect(restartHeap, `heap ${restartHeap} bytes after restart`).to.be.below(bound);

    // basic.get, pipelined in one write: they run past the resident window into paged-out heads, where
    // the connection waits for each read-back; the passive declare behind them waits too, so its count
    // is taken after the last get.
    const peer = await RawPeer.open(warren.port);
    peer.send(methods.channelOpen(1));
    await peer.expectMethod(20, 11);
    const get = methodFrame(1, 60, 70, [['short', 0], ['shortstr', QUEUE], ['bits', [true]]]);
    peer.send(Buffer.concat([...Array.from({ length: GETS }, () => get), methods.queueDeclare(1, QUEUE, { passive: true })]));
    for (let i = 0; i < GETS; i++) {
      const ok = await peer.nextFrame();
      expect(ok && method(ok), `reply to get ${i}`).to.equal('60.71');
      const header = await peer.nextFrame();
      expect(header!.type).to.equal(2);
      const content = await peer.nextFrame();
      expect(content!.type).to.equal(3);
      expect(content!.payload.readUInt32BE(0), 'FIFO order').to.equal(i);
      expect(content!.payload.equals(body(i))).to.equal(true);
    }
    const declareOk = await peer.nextFrame();
    expect(method(declareOk!)).to.equal('50.11');
    const nameLength = declareOk!.payload[4]!;
    expect(declareOk!.payload.readUInt32BE(5 + nameLength), 'message count after the gets').to.equal(COUNT - GETS);
    peer.destroy();

    const consumerConn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${warren.port}`);
    const consumer = await consumerConn.createChannel();
    await consumer.prefetch(1000);
    let next = GETS;
    let mismatch = '';
    await new Promise<void>((resolve, reject) => {
      consumer.consume(QUEUE, (msg) => {
        if (msg === null) return;
        if (mismatch === '' && (msg.content.readUInt32BE(0) !== next || !msg.content.equals(body(next)))) {
          mismatch = `expected message ${next}, got ${msg.content.readUInt32BE(0)}`;
        }
        next++;
        if (next % 500 === 0 || next === COUNT) consumer.ack(msg, true);
        if (next === COUNT) resolve();
      }).catch(reject);
    });
    expect(mismatch).to.equal('');
    expect(next).to.equal(COUNT);
    // Closing the channel first: its close follows the last ack on the wire (amqplib's connection.close may not).
    await consumer.close();
    await consumerConn.close();
    const drained = warren.broker.vhost('/')!.queues.get(QUEUE)!;
    expect(drained.messageCount).to.equal(0);
    expect(drained.pagedCount).to.equal(0);
    expect(warren.persistence.budget!.pagedInCount).to.be.greaterThan(COUNT - GETS - READ_AHEAD_ENTRIES - 1);
  });
});
