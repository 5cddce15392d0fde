/**
 * amqplib's callback API (amqplib/callback_api) against Warren: the same operations as the promise
 * tests, written the way callback users write them (mocha `done`, errors first).
 */
import { expect } from 'chai';
import amqpcb, { type Channel, type ConfirmChannel, type Connection, type ConsumeMessage, type Message } from 'amqplib/callback_api';
import { startTestBroker, type TestBroker } from '../support/broker.js';

type Done = (err?: unknown) => void;

/**
 * Wraps a node-style callback: an error fails the test; an assertion thrown in `then` fails it too,
 * instead of escaping as an uncaught exception from inside amqplib's event dispatch.
 */
function step<T>(done: Done, then: (value: T) => void): (err: Error | null | undefined, value: T) => void {
  return (err, value) => {
    if (err) return done(err);
    try {
      then(value);
    } catch (e) {
      done(e);
    }
  };
}

describe('amqplib callback API', () => {
  let broker: TestBroker;
  let conn: Connection;

  before((done) => {
    startTestBroker().then((b) => {
      broker = b;
      amqpcb.connect(broker.url, step(done, (c: Connection) => {
        conn = c;
        done();
      }));
    }, done);
  });

  after((done) => {
    conn.close((err) => {
      broker.close().then(() => done(err ?? undefined), done);
    });
  });

  it('connects and reports the server properties', () => {
    const props = conn.connection.serverProperties;
    expect(props.product).to.equal('RabbitMQ');
    expect(props.information).to.match(/^Warren /);
    expect(props.capabilities).to.include({ publisher_confirms: true, consumer_cancel_notify: true });
  });

  it('declares, binds, publishes, consumes and acks', (done) => {
    conn.createChannel(step(done, (ch: Channel) => {
      ch.assertExchange('cb-x', 'direct', { durable: false }, step(done, () => {
        ch.assertQueue('', { exclusive: true }, step(done, (q) => {
          expect(q.queue).to.match(/^amq\.gen-/);
          expect(q.messageCount).to.equal(0);
          ch.bindQueue(q.queue, 'cb-x', 'key', {}, step(done, () => {
            const got: string[] = [];
            ch.consume(q.queue, (msg: ConsumeMessage | null) => {
              if (msg === null) return;
              got.push(msg.content.toString());
              expect(msg.fields.routingKey).to.equal('key');
              expect(msg.properties.contentType).to.equal('text/plain');
              ch.ack(msg);
              if (got.length < 3) return;
              expect(got).to.deep.equal(['one', 'two', 'three']);
              // Acked: the queue is empty and the consumer still attached.
              ch.checkQueue(q.queue, step(done, (ok) => {
                expect(ok).to.include({ messageCount: 0, consumerCount: 1 });
                ch.close(done);
              }));
            }, {}, step(done, (ok) => {
              expect(ok.consumerTag).to.match(/^amq\.ctag-/);
              for (const body of ['one', 'two', 'three']) {
                ch.publish('cb-x', 'key', Buffer.from(body), { contentType: 'text/plain' });
              }
            }));
          }));
        }));
      }));
    }));
  });

  it('gets messages with basic.get and sees get-empty as false', (done) => {
    conn.createChannel(step(done, (ch: Channel) => {
      ch.assertQueue('', { exclusive: true }, step(done, (q) => {
        ch.sendToQueue(q.queue, Buffer.from('only'), { headers: { n: 1 } });
        ch.get(q.queue, { noAck: false }, step(done, (m: Message | false) => {
          expect(m).to.not.equal(false);
          const msg = m as Message;
          expect(msg.content.toString()).to.equal('only');
          expect(msg.properties.headers).to.deep.equal({ n: 1 });
          ch.ack(msg);
          ch.get(q.queue, {}, step(done, (empty: Message | false) => {
            expect(empty).to.equal(false);
            ch.close(done);
          }));
        }));
      }));
    }));
  });

  it('nacks with requeue and redelivers, marked redelivered', (done) => {
    conn.createChannel(step(done, (ch: Channel) => {
      ch.assertQueue('', { exclusive: true }, step(done, (q) => {
        ch.sendToQueue(q.queue, Buffer.from('again'));
        const seen: boolean[] = [];
        ch.consume(q.queue, (msg) => {
          if (msg === null) return;
          seen.push(msg.fields.redelivered);
          if (seen.length === 1) {
            ch.nack(msg, false, true);
            return;
          }
          ch.ack(msg);
          expect(seen).to.deep.equal([false, true]);
          ch.close(done);
        }, {}, step(done, () => undefined));
      }));
    }));
  });

  it('confirms publishes on a confirm channel with per-message callbacks and waitForConfirms', (done) => {
    conn.createConfirmChannel(step(done, (ch: ConfirmChannel) => {
      ch.assertQueue('', { exclusive: true }, step(done, (q) => {
        const acked: number[] = [];
        for (let i = 0; i < 50; i++) {
          ch.sendToQueue(q.queue, Buffer.from(String(i)), {}, step(done, () => { acked.push(i); }));
        }
        ch.waitForConfirms((err) => step(done, () => {
          expect(acked).to.deep.equal(Array.from({ length: 50 }, (_, i) => i));
          ch.checkQueue(q.queue, step(done, (ok) => {
            expect(ok.messageCount).to.equal(50);
            ch.close(done);
          }));
        })(err, undefined));
      }));
    }));
  });

  it('nacks a publish refused by the queue (reject-publish) through the callback', (done) => {
    conn.createConfirmChannel(step(done, (ch: ConfirmChannel) => {
      ch.assertQueue('', { exclusive: true, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } }, step(done, (q) => {
        ch.sendToQueue(q.queue, Buffer.from('fits'), {}, step(done, () => {
          ch.sendToQueue(q.queue, Buffer.from('refused'), {}, (err) => {
            try {
              expect(err).to.be.instanceOf(Error);
              expect(err.message).to.match(/nack/i);
            } catch (e) {
              return done(e);
            }
            ch.close(done);
          });
        }));
      }));
    }));
  });

  it('returns an unroutable mandatory message as a "return" event', (done) => {
    conn.createChannel(step(done, (ch: Channel) => {
      ch.once('return', (msg: Message) => {
        try {
          expect(msg.fields).to.include({ replyCode: 312, replyText: 'NO_ROUTE', exchange: 'amq.direct', routingKey: 'nowhere' });
          expect(msg.content.toString()).to.equal('lost');
        } catch (e) {
          return done(e);
        }
        ch.close(done);
      });
      ch.publish('amq.direct', 'nowhere', Buffer.from('lost'), { mandatory: true });
    }));
  });

  it('delivers a channel error (404) as an "error" event and a failed callback; the connection stays', (done) => {
    conn.createChannel(step(done, (ch: Channel) => {
      let callbackErr: Error | undefined;
      ch.on('error', (err: Error & { code?: number }) => {
        try {
          expect(err.code).to.equal(404);
          expect(err.message).to.contain("NOT_FOUND - no queue 'cb-no-such-queue' in vhost '/'");
        } catch (e) {
          return done(e);
        }
        ch.once('close', () => {
          try {
            // The failed operation's callback got the error too (before or with the close).
            expect(callbackErr).to.be.instanceOf(Error);
          } catch (e) {
            return done(e);
          }
          // Only the channel went: the connection opens a new one.
          conn.createChannel(step(done, (again: Channel) => { again.close(done); }));
        });
      });
      ch.checkQueue('cb-no-such-queue', (err) => { callbackErr = err; });
    }));
  });

  it('cancels a consumer and receives the cancel-ok through the callback', (done) => {
    conn.createChannel(step(done, (ch: Channel) => {
      ch.assertQueue('', { exclusive: true }, step(done, (q) => {
        ch.consume(q.queue, () => undefined, { consumerTag: 'cb-tag' }, step(done, (ok) => {
          expect(ok.consumerTag).to.equal('cb-tag');
          ch.cancel('cb-tag', step(done, (cancelled) => {
            expect(cancelled.consumerTag).to.equal('cb-tag');
            ch.checkQueue(q.queue, step(done, (info) => {
              expect(info.consumerCount).to.equal(0);
              ch.close(done);
            }));
          }));
        }));
      }));
    }));
  });
});
