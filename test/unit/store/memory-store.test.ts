import { expect } from 'chai';
import { MemoryStore, MemoryStoreData } from '../../../src/store/memory-store.js';
import { storeContract } from './store-contract.js';

storeContract('memory', async () => {
  const data = new MemoryStoreData();
  return {
    open: async () => new MemoryStore(data),
    destroy: async () => undefined,
  };
});

describe('MemoryStore', () => {
  it('keeps message buffers by reference (no copies)', async () => {
    const store = new MemoryStore();
    const body = Buffer.from('shared');
    store.addMessage(1, '', 'q', Buffer.alloc(0), body);
    const seen: Buffer[] = [];
    await store.readMessages((m) => {
      seen.push(m.body);
    }, () => undefined);
    expect((await store.loadMessages([1]))[0]!.body).to.equal(body);
    expect(seen[0]).to.equal(body);
    await store.close();
  });

  it('counts the writes of each turn as one batch', async () => {
    const store = new MemoryStore();
    for (let i = 1; i <= 10; i++) store.addEntry(1, i, i, 0, 0, 0, false);
    await store.flush();
    expect(store.stats).to.deep.equal({ batches: 1, ops: 10, bytes: 0 });
    await store.close();
  });
});
