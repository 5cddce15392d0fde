/** The store as Warren wires it: opened before the listener, recovered before clients, closed last. */
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Message } from '../../../src/broker/message.js';
import { PublishOutcome } from '../../../src/broker/vhost.js';
import { encodeBasicPropertiesBuffer } from '../../../src/protocol/generated/properties.js';
import { ContentProperties } from '../../../src/server/content-properties.js';
import { StoreError, StoreErrorCode } from '../../../src/store/store.js';
import { EMPTY_TABLE } from '../../../src/types/field-table.js';
import { Warren, type WarrenOptions } from '../../../src/warren.js';

describe('Warren with a LevelDB store', () => {
  let dir: string;
  const running: Warren[] = [];

  async function start(more: WarrenOptions = {}): Promise<Warren> {
    const w = await Warren.start({ host: '127.0.0.1', port: 0, store: 'level', dataDir: dir, logLevel: 'silent', ...more });
    running.push(w);
    return w;
  }

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'warren-data-'));
  });

  afterEach(async () => {
    for (const w of running.splice(0)) await w.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('recovers durable queues and persistent messages before accepting connections', async () => {
    let w = await start();
    const vhost = w.broker.vhost('/')!;
    vhost.declareQueue({ queue: 'kept', passive: false, durable: true, exclusive: false, autoDelete: false, arguments: EMPTY_TABLE }, null);
    for (const body of ['one', 'two']) {
      const props = new ContentProperties(encodeBasicPropertiesBuffer({ deliveryMode: 2 }));
      expect(vhost.publish('', new Message('', 'kept', props, Buffer.from(body)))).to.equal(PublishOutcome.Routed);
    }
    await w.close();

    w = await start();
    const it = w.broker.vhost('/')!.queues.get('kept')!.readyEntries();
    const got: string[] = [];
    for (let r = it.next(); r.done !== true; r = it.next()) got.push(r.value.message.body!.toString());
    expect(got).to.deep.equal(['one', 'two']);
    // And the listener is up.
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(w.port, '127.0.0.1', () => {
        s.destroy();
        resolve();
      });
      s.once('error', reject);
    });
  });

  it('refuses to start on a data directory another Warren holds, leaving the first one running', async () => {
    const first = await start();
    let caught: unknown;
    try {
      await start();
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(StoreError);
    expect((caught as StoreError).code).to.equal(StoreErrorCode.Locked);
    expect((caught as StoreError).exitCode).to.equal(1);
    expect(running).to.have.length(1);
    expect(first.broker.vhost('/')!.persistence).to.equal(first.persistence);
  });
});
