/**
 * kill -9 at random points while publishing (with confirms) and consuming, then restart on the same data
 * directory: every confirmed message that was not acked is there exactly once, nothing appears that was
 * never published, and order is kept. The kill points come from a seeded PRNG; the seed is printed so a
 * failure can be replayed with WARREN_CRASH_SEED.
 */
import { expect } from 'chai';
import amqp from 'amqplib';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prng } from '../support/fuzz-peer.js';
import { WarrenProcess } from '../support/warren-process.js';

const ROUNDS = 4;
const QUEUE = 'crash-q';

describe('crash safety: kill -9 while publishing and consuming, restart on the same directory', function () {
  this.timeout(120000);
  const seed = Number(process.env.WARREN_CRASH_SEED ?? Date.now() % 1_000_000);
  const random = prng(seed);
  let dir: string;
  const children: WarrenProcess[] = [];

  before(() => {
    // eslint-disable-next-line no-console
    console.log(`      crash test seed ${seed} (replay with WARREN_CRASH_SEED=${seed})`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-crash-'));
  });
  after(() => {
    for (const c of children) c.signal('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function start(): WarrenProcess {
    const p = new WarrenProcess(['--port', '0', '--data-dir', dir, '--heartbeat', '0']);
    children.push(p);
    return p;
  }

  /** Every message ever published across rounds, and what we know of it. */
  const published = new Set<number>();
  const confirmed = new Set<number>();
  const acked = new Set<number>();
  let next = 0;

  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: confirmed messages survive kill -9 exactly once, in order`, async () => {
      const warren = start();
      const { port } = await warren.started();
      const url = `amqp://guest:guest@127.0.0.1:${port}`;

      // What survived the previous round's kill (nothing is consumed yet in this round).
      const check = await amqp.connect(url);
      const cch = await check.createChannel();
      await cch.assertQueue(QUEUE, { durable: true });
      const present: number[] = [];
      for (;;) {
        const m = await cch.get(QUEUE, { noAck: false });
        if (m === false) break;
        present.push(Number(m.content.toString()));
      }
      await check.close(); // unacked: they all go back to the queue, in order
      expect(new Set(present).size, 'no duplicates').to.equal(present.length);
      expect(present, 'order kept').to.deep.equal([...present].sort((a, b) => a - b));
      for (const n of present) expect(published.has(n), `message ${n} was published`).to.equal(true);
      const missing = [...confirmed].filter((n) => !acked.has(n) && !present.includes(n));
      expect(missing, 'confirmed and not acked, yet lost').to.deep.equal([]);
      // Acked ones may survive when the kill beat the ack; from now on, treat the present set as truth.
      confirmed.clear();
      acked.clear();
      for (const n of present) confirmed.add(n);

      // Publish with confirms and consume with acks until a random point, then kill -9.
      const killAfter = 200 + Math.floor(random() * 2500);
      const pub = await amqp.connect(url);
      const cons = await amqp.connect(url);
      pub.on('error', () => undefined);
      cons.on('error', () => undefined);
      const pch = await pub.createConfirmChannel();
      pch.on('error', () => undefined);
      const ccons = await cons.createChannel();
      ccons.on('error', () => undefined);
      await ccons.prefetch(50);
      let consumed = 0;
      await ccons.consume(QUEUE, (m) => {
        if (m === null) return;
        const n = Number(m.content.toString());
        consumed++;
        // Ack three in four: the rest stay unacked and must come back.
        if (n % 4 !== 0) {
          ccons.ack(m);
          acked.add(n);
        }
      });
      const killed = warren.exited;
      await new Promise<void>((resolve) => {
        let outstanding = 0;
        let stop = false;
        const publishOne = (): void => {
          if (stop) return;
          const n = next++;
          published.add(n);
          outstanding++;
          pch.sendToQueue(QUEUE, Buffer.from(String(n)), { persistent: true }, (err) => {
            outstanding--;
            if (err === null || err === undefined) confirmed.add(n);
            if (!stop && confirmed.size >= killAfter) {
              stop = true;
              warren.signal('SIGKILL');
              resolve();
              return;
            }
            if (!stop && outstanding < 64) publishOne();
          });
          if (outstanding < 64) setImmediate(publishOne);
        };
        publishOne();
      });
      const exit = await killed;
      expect(exit.signal).to.equal('SIGKILL');
      expect(consumed).to.be.greaterThan(0);
    });
  }

  it('after the last kill, a final restart still has every confirmed, unacked message', async () => {
    const warren = start();
    const { port } = await warren.started();
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
    const ch = await conn.createChannel();
    const present: number[] = [];
    for (;;) {
      const m = await ch.get(QUEUE, { noAck: true });
      if (m === false) break;
      present.push(Number(m.content.toString()));
    }
    await conn.close();
    const missing = [...confirmed].filter((n) => !acked.has(n) && !present.includes(n));
    expect(missing).to.deep.equal([]);
    expect(present).to.deep.equal([...present].sort((a, b) => a - b));
    warren.signal('SIGTERM');
    expect((await warren.exited).code).to.equal(0);
  });
});
