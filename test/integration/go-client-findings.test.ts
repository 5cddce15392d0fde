/**
 * Differences from RabbitMQ 3.10 found by running the official Go client's own integration suite
 * (rabbitmq/amqp091-go, test/clients/go-client-suite.sh) against Warren. Each test fails without its fix.
 */
import { once } from 'node:events';
import { expect } from 'chai';
import { startTestBroker, type TestBroker } from '../support/broker.js';
import { methods } from '../support/frame-builder.js';
import { RawPeer } from '../support/raw-peer.js';
import { connectionForClientPort, serverConnections } from '../support/warren-internals.js';

describe('Go client suite findings', () => {
  let broker: TestBroker;
  before(async () => { broker = await startTestBroker(); });
  after(async () => { await broker.close(); });

  /**
   * amqp091-go TestConcurrentClose / TestReaderGoRoutineTerminatesWhenMsgIsProcessedDuringClose: 32
   * goroutines call Connection.Close() at once, so the client sends several connection.close frames
   * and each caller waits for a close-ok. RabbitMQ (rabbit_reader: connection state `closed`) answers
   * every connection.close with close-ok and leaves the socket to the client (dropping it only after a
   * timeout). Warren used to end the socket right after the first close-ok, so the other callers got
   * EOF (501) instead of close-ok and the Go test failed about half of the time.
   */
  it('answers every connection.close with close-ok and leaves the socket to the client', async () => {
    const peer = await RawPeer.open(broker.warren.port);
    const server = connectionForClientPort(broker.warren, peer.socket.localPort!);
    expect(server, 'server side of the raw peer').to.not.equal(undefined);
    peer.send(Buffer.concat([methods.connectionClose(200, 'kthxbai'), methods.connectionClose(200, 'kthxbai')]));
    await peer.expectMethod(10, 51);
    await peer.expectMethod(10, 51);
    expect(server!.socket.writableEnded, 'server ended its side before the client').to.equal(false);
    // A third close crossing later is still answered.
    peer.send(methods.connectionClose(200, 'kthxbai'));
    await peer.expectMethod(10, 51);

    // The client closes the socket after close-ok; the server side goes away with it.
    const serverClosed = server!.socket.closed ? Promise.resolve() : once(server!.socket, 'close');
    peer.socket.end();
    await peer.socketClosed;
    await serverClosed;
    expect(serverConnections(broker.warren)).to.not.include(server);
  });
});
