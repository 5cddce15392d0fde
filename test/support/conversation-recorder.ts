/**
 * Records what amqplib sends (client → server bytes only) in a few real conversations, through a tiny
 * TCP proxy in front of a broker. The fuzz test replays and mutates these; the committed fixture
 * (recorded-conversations.ts) is regenerated with:
 *
 *   node_modules/.bin/tsc -p tsconfig.json && node dist/test/support/conversation-recorder.js
 *
 * Every name in the conversations is fixed (no server-named queues or consumer tags), so a blind replay
 * sends the same frames, whatever the server answers.
 */
import net from 'node:net';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import amqp from 'amqplib';

/** A conversation: the protocol header, then each frame the client sent, in order. */
export type Conversation = Buffer[];

interface Recording {
  readonly url: string;
  /** Resolves with the client's bytes once the client has closed its socket. */
  readonly bytes: Promise<Buffer>;
}

/** A one-connection recording proxy in front of `port`. */
async function recordingProxy(port: number): Promise<Recording & { close(): void }> {
  const chunks: Buffer[] = [];
  let resolveBytes!: (b: Buffer) => void;
  const bytes = new Promise<Buffer>((resolve) => { resolveBytes = resolve; });
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    client.on('data', (d: Buffer) => { chunks.push(Buffer.from(d)); upstream.write(d); });
    upstream.on('data', (d: Buffer) => client.write(d));
    client.on('close', () => { upstream.destroy(); resolveBytes(Buffer.concat(chunks)); });
    upstream.on('close', () => client.end());
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as net.AddressInfo;
  return { url: `amqp://guest:guest@127.0.0.1:${address.port}`, bytes, close: () => server.close() };
}

/** Splits a recorded client stream into the protocol header and its frames. */
export function splitConversation(stream: Buffer): Conversation {
  if (stream.length < 8 || stream.toString('latin1', 0, 4) !== 'AMQP') throw new Error('recording does not start with a protocol header');
  const out: Buffer[] = [stream.subarray(0, 8)];
  let off = 8;
  while (off < stream.length) {
    const size = stream.readUInt32BE(off + 3);
    out.push(stream.subarray(off, off + size + 8));
    off += size + 8;
  }
  if (off !== stream.length) throw new Error('recording ends inside a frame');
  return out;
}

type Script = (url: string) => Promise<void>;

const TX_SELECT = 0x005a000a;
const TX_COMMIT = 0x005a0014;
const TX_ROLLBACK = 0x005a001e;
type Rpc = { rpc(method: number, fields: object, expect: number): Promise<unknown> };

/** The conversations: between them, most of what a client sends in real life. */
export const SCRIPTS: Readonly<Record<string, Script>> = {
  /** Handshake, exchange/queue declare with arguments, bindings, unbind, deletes, close. */
  async topology(url) {
    const conn = await amqp.connect(url);
    const ch = await conn.createChannel();
    await ch.assertExchange('fz-ae', 'fanout', { durable: false });
    await ch.assertExchange('fz-topic', 'topic', { durable: false, arguments: { 'alternate-exchange': 'fz-ae' } });
    await ch.assertExchange('fz-headers', 'headers', { durable: true, autoDelete: true });
    await ch.assertQueue('fz-q1', {
      durable: false,
      arguments: { 'x-message-ttl': 60000, 'x-max-length': 100, 'x-overflow': 'reject-publish', 'x-queue-mode': 'lazy' },
    });
    await ch.bindQueue('fz-q1', 'fz-topic', 'a.*.c');
    await ch.bindQueue('fz-q1', 'fz-headers', '', { 'x-match': 'any', kind: 'x', level: 3 });
    await ch.bindExchange('fz-ae', 'fz-topic', '#');
    await ch.unbindQueue('fz-q1', 'fz-topic', 'a.*.c');
    await ch.unbindExchange('fz-ae', 'fz-topic', '#');
    await ch.checkQueue('fz-q1');
    await ch.checkExchange('fz-topic');
    await ch.purgeQueue('fz-q1');
    await ch.deleteQueue('fz-q1', { ifUnused: true, ifEmpty: true });
    await ch.deleteExchange('fz-topic', { ifUnused: false });
    await ch.deleteExchange('fz-headers');
    await ch.deleteExchange('fz-ae');
    await ch.close();
    await conn.close();
  },

  /**
   * frame_max 4096 so a 10 KB body goes out in three body frames; every basic property, a headers
   * table of many types; consume, ack, nack, reject, cancel, get, recover.
   */
  async publishConsume(url) {
    const conn = await amqp.connect(`${url}?frameMax=4096&heartbeat=0`);
    const ch = await conn.createChannel();
    await ch.assertQueue('fz-work', { durable: false, arguments: { 'x-max-priority': 5 } });
    await ch.prefetch(10);
    ch.sendToQueue('fz-work', Buffer.alloc(10000, 'x'), {
      contentType: 'application/octet-stream', contentEncoding: 'identity', deliveryMode: 1, priority: 3,
      correlationId: 'corr-1', replyTo: 'fz-reply', expiration: '60000', messageId: 'msg-1', timestamp: 1700000000,
      type: 'fuzz', userId: 'guest', appId: 'warren-fuzz',
      headers: {
        str: 'text', int: 42, neg: -7, big: 2 ** 40, float: 1.5, bool: true, none: null, bytes: Buffer.from([0, 1, 2]),
        list: [1, 'two', false, [3]], nested: { deeper: { deepest: 'yes' } }, when: { '!': 'timestamp', value: 1700000000 },
        dec: { '!': 'decimal', value: { places: 2, digits: 314 } }, i8: { '!': 'byte', value: -3 },
        u16: { '!': 'unsignedshort', value: 65000 }, f32: { '!': 'float', value: 2.5 },
      },
    });
    ch.sendToQueue('fz-work', Buffer.from('second'), { priority: 5 });
    ch.sendToQueue('fz-work', Buffer.from('third'));
    ch.sendToQueue('fz-work', Buffer.from(''));
    const got = await new Promise<amqp.ConsumeMessage[]>((resolve, reject) => {
      const msgs: amqp.ConsumeMessage[] = [];
      ch.consume('fz-work', (m) => {
        if (m === null) return;
        msgs.push(m);
        if (msgs.length === 4) resolve(msgs);
      }, { consumerTag: 'fz-ctag', exclusive: false, priority: 2, arguments: { 'x-priority': 2 } }).catch(reject);
    });
    ch.ack(got[0]!);
    ch.nack(got[1]!, false, false);
    ch.reject(got[2]!, true);
    ch.ack(got[3]!, false);
    await ch.cancel('fz-ctag');
    ch.sendToQueue('fz-work', Buffer.from('fourth'));
    const m = await ch.get('fz-work');
    if (m !== false) ch.ack(m);
    await ch.get('fz-work', { noAck: true });
    await ch.recover();
    ch.nackAll(true);
    await ch.deleteQueue('fz-work');
    await ch.close();
    await conn.close();
  },

  /** Confirm mode, mandatory return, a persistent message to a durable queue, a global qos. */
  async confirms(url) {
    const conn = await amqp.connect(`${url}?heartbeat=0`);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('fz-durable', { durable: true });
    await ch.prefetch(5, true);
    ch.publish('amq.direct', 'nowhere', Buffer.from('returned'), { mandatory: true });
    ch.sendToQueue('fz-durable', Buffer.from('kept'), { persistent: true });
    ch.publish('amq.fanout', '', Buffer.from('fanned'));
    await ch.waitForConfirms();
    await ch.deleteQueue('fz-durable');
    await ch.close();
    await conn.close();
  },

  /** Transactions: select, publish, ack, commit, rollback; two channels at once. */
  async tx(url) {
    const conn = await amqp.connect(`${url}?heartbeat=0`);
    const ch = await conn.createChannel();
    const other = await conn.createChannel();
    const tx = (id: number): Promise<unknown> => (ch as unknown as Rpc).rpc(id, {}, id + 1);
    await ch.assertQueue('fz-tx', { durable: false });
    await tx(TX_SELECT);
    ch.sendToQueue('fz-tx', Buffer.from('held'));
    other.sendToQueue('fz-tx', Buffer.from('outside'));
    await tx(TX_COMMIT);
    const m = await ch.get('fz-tx');
    if (m !== false) ch.ack(m);
    ch.sendToQueue('fz-tx', Buffer.from('dropped'));
    await tx(TX_ROLLBACK);
    await other.deleteQueue('fz-tx');
    await other.close();
    await ch.close();
    await conn.close();
  },

  /** A channel error (passive declare of a missing queue) answered with close-ok, then more work. */
  async errors(url) {
    const conn = await amqp.connect(`${url}?heartbeat=0`);
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    await ch.checkQueue('fz-missing').catch(() => undefined);
    const again = await conn.createChannel();
    await again.assertQueue('fz-excl', { exclusive: true, autoDelete: true });
    again.sendToQueue('fz-excl', Buffer.from('x'), { headers: { 'x-death': [{ count: 1, reason: 'rejected' }] } });
    await again.get('fz-excl', { noAck: true });
    await again.close();
    await conn.close();
  },
};

/** Runs every script through a recording proxy in front of the broker on `port`. */
export async function recordConversations(port: number): Promise<Record<string, Conversation>> {
  const out: Record<string, Conversation> = {};
  for (const [name, script] of Object.entries(SCRIPTS)) {
    const proxy = await recordingProxy(port);
    try {
      await script(proxy.url);
      out[name] = splitConversation(await proxy.bytes);
    } finally {
      proxy.close();
    }
  }
  return out;
}

/** The committed fixture's source text. */
export function fixtureSource(conversations: Record<string, Conversation>): string {
  const lines = [
    '/**',
    ' * Client → server bytes of real amqplib conversations (see conversation-recorder.ts for the scripts and',
    ' * how to regenerate): per conversation, the protocol header and then each frame, base64.',
    ' * Generated; do not edit by hand.',
    ' */',
    'export const RECORDED_CONVERSATIONS: Readonly<Record<string, readonly string[]>> = {',
  ];
  for (const [name, frames] of Object.entries(conversations)) {
    lines.push(`  ${name}: [`);
    for (const f of frames) lines.push(`    '${f.toString('base64')}',`);
    lines.push('  ],');
  }
  lines.push('};', '');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { startTestBroker } = await import('./broker.js');
  const broker = await startTestBroker();
  try {
    const conversations = await recordConversations(broker.warren.port);
    // dist/test/support → test/support
    const here = path.dirname(fileURLToPath(import.meta.url));
    const target = path.resolve(here, '../../../test/support/recorded-conversations.ts');
    writeFileSync(target, fixtureSource(conversations));
    process.stdout.write(`wrote ${target}: ${Object.entries(conversations).map(([n, c]) => `${n} (${c.length} frames)`).join(', ')}\n`);
  } finally {
    await broker.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  });
}
