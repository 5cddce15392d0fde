import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Level } from 'level';
import { KeyPrefix, entityKey, entryKey, messageKey, metaKey } from '../../../src/store/keys.js';
import { LevelStore, openLevelStore } from '../../../src/store/level-store.js';
import { encodeEntry, encodeFormat, encodeMessage } from '../../../src/store/records.js';
import { type CorruptRecord, StoreError, StoreErrorCode } from '../../../src/store/store.js';
import { tableOf } from '../../../src/types/field-table.js';
import { snapshot, storeContract } from './store-contract.js';

async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'warren-store-'));
}

storeContract('level', async () => {
  const dir = await tempDir();
  return {
    open: () => openLevelStore(dir),
    destroy: () => fs.rm(dir, { recursive: true, force: true }),
  };
});

async function expectStoreError(p: Promise<unknown>, code: string): Promise<StoreError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  expect(caught).to.be.instanceOf(StoreError);
  expect((caught as StoreError).code).to.equal(code);
  return caught as StoreError;
}

/** Name → sha256 of every file in a directory (what "nothing touched" means). */
async function dirDigest(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await fs.readdir(dir)).sort()) {
    const st = await fs.stat(path.join(dir, name));
    out[name] = `${st.mtimeMs}:${createHash('sha256').update(await fs.readFile(path.join(dir, name))).digest('hex')}`;
  }
  return out;
}

describe('LevelStore', () => {
  let dir: string;
  let store: LevelStore | undefined;

  beforeEach(async () => {
    dir = await tempDir();
  });

  afterEach(async () => {
    await store?.close();
    store = undefined;
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('writes everything queued in one turn as one batch', async () => {
    store = await openLevelStore(dir);
    for (let i = 1; i <= 500; i++) {
      store.addMessage(i, '', 'q', Buffer.alloc(0), Buffer.alloc(100));
      store.addEntry(1, i, i, 0, 100, 0, false);
    }
    expect(store.backlogOps).to.equal(1000);
    await store.flush();
    expect(store.stats.batches).to.equal(1);
    expect(store.stats.ops).to.equal(1000);
    expect(store.backlogOps).to.equal(0);
  });

  it('a message added and deleted before its batch is written costs no write', async () => {
    store = await openLevelStore(dir);
    store.addMessage(1, '', 'q', Buffer.alloc(0), Buffer.alloc(1024));
    store.addEntry(1, 1, 1, 0, 1024, 0, false);
    store.markDelivered(1, 1, 1, 0, 1024, 0, false);
    store.deleteEntry(1, 1);
    store.deleteMessage(1);
    expect(store.backlogOps).to.equal(0);
    expect(store.backlogBytes).to.equal(0);
    await store.flush();
    expect(store.stats).to.deep.equal({ batches: 0, ops: 0, bytes: 0 });
  });

  it('a delete of a record already written is written', async () => {
    store = await openLevelStore(dir);
    store.addMessage(1, '', 'q', Buffer.alloc(0), Buffer.alloc(10));
    await store.flush();
    store.deleteMessage(1);
    store.addEntry(2, 1, 1, 0, 10, 0, false); // fresh again: cancelled by the delete below
    store.deleteEntry(2, 1);
    await store.flush();
    expect(store.stats.batches).to.equal(2);
    expect(store.stats.ops).to.equal(2);
  });

  it('accumulates the next batch while one is being written (one batch in flight)', async () => {
    store = await openLevelStore(dir);
    const s = store;
    s.addMessage(1, '', 'q', Buffer.alloc(0), Buffer.alloc(10));
    const inFlight = await new Promise<number>((resolve) => {
      // Runs after the store's own setImmediate has started the first batch.
      setImmediate(() => {
        s.addMessage(2, '', 'q', Buffer.alloc(0), Buffer.alloc(10));
        s.addMessage(3, '', 'q', Buffer.alloc(0), Buffer.alloc(10));
        resolve(s.backlogOps);
      });
    });
    expect(inFlight).to.equal(3);
    await s.flush();
    expect(s.stats.batches).to.equal(2);
    expect(s.stats.ops).to.equal(3);
  });

  it('keeps afterCommit callbacks in call order when writes queued during a batch cancel out', async () => {
    store = await openLevelStore(dir);
    const s = store;
    s.addMessage(1, '', 'q', Buffer.alloc(0), Buffer.alloc(10));
    const order: string[] = [];
    await new Promise<void>((resolve) => {
      setImmediate(() => {
        // The first batch is being written now.
        s.addMessage(2, '', 'q', Buffer.alloc(0), Buffer.alloc(10));
        s.afterCommit(() => order.push('A'));
        s.deleteMessage(2);
        s.afterCommit(() => {
          order.push('B');
          resolve();
        });
      });
    });
    expect(order).to.deep.equal(['A', 'B']);
    expect(s.stats.ops).to.equal(1);
  });

  it('skips and reports records that cannot be decoded, with their keys', async () => {
    store = await openLevelStore(dir);
    store.putQueue({ vhost: '/', name: 'good', id: 1, autoDelete: false, arguments: tableOf([]) });
    store.addMessage(1, '', 'good', Buffer.alloc(0), Buffer.from('fine'));
    store.addEntry(1, 1, 1, 0, 1024, 0, false);
    await store.close();
    store = undefined;

    const raw = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await raw.open();
    const badVersion = Buffer.from(encodeMessage('', 'q', Buffer.alloc(0), Buffer.from('x')));
    badVersion[0] = 99;
    const bad: Array<[Buffer, Buffer]> = [
      [messageKey(2), badVersion],
      [entryKey(1, 2), encodeEntry(2, false, 0, 1, 0, false).subarray(0, 10)],
      [entityKey(KeyPrefix.Queue, '/', 'broken'), Buffer.of(1, 0, 0)],
      [Buffer.concat([entityKey(KeyPrefix.Exchange, '/', 'x'), Buffer.of(0)]), Buffer.of(1, 6, 0x64, 0x69, 0x72, 0x65, 0x63, 0x74, 0, 0, 0, 0, 0)],
      [Buffer.of(KeyPrefix.Binding, 5, 0x61), Buffer.of(1)],
      [Buffer.of(KeyPrefix.Message, 1, 2), Buffer.of(1)],
    ];
    for (const [k, v] of bad) await raw.put(k, v);
    await raw.close();

    store = await openLevelStore(dir);
    const s = await snapshot(store);
    expect(s.queues.map((q) => q.name)).to.deep.equal(['good']);
    expect(s.messages.map((m) => m.id)).to.deep.equal([1]);
    expect(s.entries.map((e) => e.seq)).to.deep.equal([1]);
    expect(s.corrupt.map((c) => c.key.toString('hex')).sort()).to.deep.equal(bad.map(([k]) => k.toString('hex')).sort());
    expect(s.corrupt.map((c) => c.kind).sort()).to.deep.equal(['binding', 'entry', 'exchange', 'message', 'message', 'queue']);
    expect(s.corrupt.find((c) => c.key.equals(messageKey(2)))!.reason).to.match(/record version 99/);
    // A malformed key does not hide the ids that are in use.
    expect((await store.highestIds()).message).to.equal(2);
    // Reading back by id: the undecodable record is reported and comes back undefined.
    const loadCorrupt: CorruptRecord[] = [];
    const loaded = await store.loadMessages([2, 1], (c) => {
      loadCorrupt.push(c);
    });
    expect(loaded.map((m) => m?.body.toString())).to.deep.equal([undefined, 'fine']);
    expect(loadCorrupt.map((c) => [c.kind, c.key.toString('hex')])).to.deep.equal([['message', messageKey(2).toString('hex')]]);
    expect(loadCorrupt[0]!.reason).to.match(/record version 99/);
    // Listing ids reads keys only: the bad value does not matter, the bad key is reported.
    const ids: number[] = [];
    const idCorrupt: CorruptRecord[] = [];
    await store.readMessageIds((id) => {
      ids.push(id);
    }, (c) => {
      idCorrupt.push(c);
    });
    expect(ids).to.deep.equal([1, 2]);
    expect(idCorrupt.map((c) => c.key.toString('hex'))).to.deep.equal([Buffer.of(KeyPrefix.Message, 1, 2).toString('hex')]);
  });

  it('refuses a directory held by another running process, touching nothing', async function () {
    this.timeout(20000);
    // Create the store first so the directory has its files.
    await (await openLevelStore(dir)).close();
    const holder = spawn(process.execPath, ['--input-type=module', '-e', `
      import { Level } from 'level';
      const db = new Level(process.argv[1]);
      await db.open();
      process.stdout.write('held\\n');
      process.stdin.on('end', () => db.close().then(() => process.exit(0)));
      process.stdin.resume();
    `, dir], { cwd: process.cwd(), stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on('data', (d: Buffer) => {
          if (d.toString().includes('held')) resolve();
        });
        holder.once('exit', (code) => reject(new Error(`holder exited early (${code})`)));
      });
      const before = await dirDigest(dir);
      const err = await expectStoreError(openLevelStore(dir), StoreErrorCode.Locked);
      expect(err.message).to.equal(`data directory ${dir} is in use by another Warren (pid ${holder.pid})`);
      expect(err.exitCode).to.equal(1);
      expect(await dirDigest(dir)).to.deep.equal(before);
    } finally {
      const exited = new Promise((resolve) => holder.once('exit', resolve));
      holder.stdin.end();
      await exited;
    }
  });

  it('refuses a directory written with another store format', async () => {
    const raw = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await raw.open();
    await raw.put(metaKey('format'), encodeFormat(99));
    await raw.close();
    const err = await expectStoreError(openLevelStore(dir), StoreErrorCode.Format);
    expect(err.message).to.match(/store format 99/);
    // The refusal released the directory.
    const again = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await again.open();
    await again.close();
  });

  it('reports a path that cannot hold a database', async () => {
    const file = path.join(dir, 'a-file');
    await fs.writeFile(file, 'not a directory');
    const err = await expectStoreError(openLevelStore(file), StoreErrorCode.OpenFailed);
    expect(err.message).to.contain(file);
  });

  it('writes with fsync when asked', async () => {
    store = await openLevelStore(dir, { fsync: true });
    store.addMessage(1, '', 'q', Buffer.alloc(0), Buffer.from('synced'));
    await store.close();
    store = await openLevelStore(dir);
    expect((await snapshot(store)).messages.map((m) => m.body.toString())).to.deep.equal(['synced']);
  });

  it('hands a failed batch error to its afterCommit callbacks and onWriteError, then keeps going', async () => {
    const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    await db.close();
    const reported: Error[] = [];
    const broken = new LevelStore(db, dir, { onWriteError: (e) => reported.push(e) });
    broken.addMessage(1, '', 'q', Buffer.alloc(0), Buffer.alloc(1));
    const errors: Array<Error | null> = [];
    await new Promise<void>((resolve) => broken.afterCommit((e) => {
      errors.push(e);
      resolve();
    }));
    expect(errors[0]).to.be.instanceOf(Error);
    expect(reported).to.have.length(1);
    expect(broken.backlogOps).to.equal(0);
    // Later commits are still answered.
    broken.addMessage(2, '', 'q', Buffer.alloc(0), Buffer.alloc(1));
    let rejected = false;
    await broken.flush().catch(() => {
      rejected = true;
    });
    expect(rejected).to.equal(true);
  });
});
