/**
 * Test fixture: a Warren started in-process on 127.0.0.1 with an ephemeral port, plus small amqplib
 * helpers that wait for events (never sleep).
 */
import amqp from 'amqplib';
import { Warren, type WarrenOptions } from '../../src/warren.js';

export interface TestBroker {
  readonly warren: Warren;
  readonly url: string;
  close(): Promise<void>;
}

export async function startTestBroker(options: WarrenOptions = {}): Promise<TestBroker> {
  const warren = await Warren.start({
    host: '127.0.0.1',
    port: 0,
    store: 'memory',
    logLevel: (process.env.WARREN_TEST_LOG as WarrenOptions['logLevel']) ?? 'silent',
    ...options,
  });
  return {
    warren,
    url: `amqp://guest:guest@127.0.0.1:${warren.port}`,
    close: () => warren.close(),
  };
}

/** What a server-initiated close looked like from the client. */
export interface CloseInfo {
  readonly code: number;
  readonly text: string;
}

/** Run an operation that must make the server close the channel (or connection); resolve with the close. */
export async function expectChannelClose(channel: amqp.Channel, op: () => Promise<unknown> | unknown): Promise<CloseInfo> {
  const closed = new Promise<CloseInfo>((resolve) => {
    channel.once('error', (err: Error & { code?: number }) => resolve(parseClose(err)));
  });
  try {
    await op();
  } catch {
    // amqplib rejects the pending operation as well; the 'error' event carries the details.
  }
  return closed;
}

export async function expectConnectionClose(connection: amqp.ChannelModel, op: () => Promise<unknown> | unknown): Promise<CloseInfo> {
  const closed = new Promise<CloseInfo>((resolve) => {
    connection.once('error', (err: Error & { code?: number }) => resolve(parseClose(err)));
  });
  try {
    await op();
  } catch {
    // see above
  }
  return closed;
}

/** amqplib's messages look like: `Channel closed by server: 404 (NOT-FOUND) with message "NOT_FOUND - ..."`. */
export function parseClose(err: Error & { code?: number }): CloseInfo {
  const m = /with message "(.*)"$/s.exec(err.message);
  return { code: err.code ?? 0, text: m ? m[1]! : err.message };
}

/** Resolve with the next `n` messages a consumer receives. */
export function collect(channel: amqp.Channel, queue: string, n: number, options: amqp.Options.Consume = {}): Promise<amqp.ConsumeMessage[]> {
  return new Promise((resolve, reject) => {
    const got: amqp.ConsumeMessage[] = [];
    channel.consume(queue, (msg) => {
      if (msg === null) return;
      got.push(msg);
      if (got.length === n) resolve(got);
    }, options).catch(reject);
  });
}

/**
 * Mocha hooks for a describe block: one broker and one amqplib connection for its tests, closed after.
 * Read them inside tests (`ctx.conn`), once the before hook has run.
 */
export function brokerWithConnection(options: WarrenOptions = {}): { readonly broker: TestBroker; readonly conn: amqp.ChannelModel } {
  const ctx = {} as { broker: TestBroker; conn: amqp.ChannelModel };
  before(async () => {
    ctx.broker = await startTestBroker(options);
    ctx.conn = await amqp.connect(ctx.broker.url);
  });
  after(async () => {
    await ctx.conn.close();
    await ctx.broker.close();
  });
  return ctx;
}
