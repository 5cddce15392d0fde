#!/usr/bin/python3
"""Differential check: Python AMQP clients (pika 1.x, py-amqp 5.x) against a broker.

Every assertion states what RabbitMQ 3.10 does, so the script passes unchanged against RabbitMQ and
must pass unchanged against Warren. It covers what pika users commonly do and what pika's and
py-amqp's own acceptance tests exercise (handshake and tuning, heartbeats, topology, publishing with
properties, returns, confirms, consuming, qos, recover, transactions, cancel notifications, errors,
large messages, many channels, direct reply-to, server-initiated close).

  AMQP_URL=amqp://guest:guest@127.0.0.1:5672/ /usr/bin/python3 test/clients/python_clients.py [-v] [-k PATTERN]

Optional: AMQP_SHUTDOWN_CMD, a shell command that stops the broker; when set, the last test runs it
with a pika and a py-amqp connection open and expects 320 CONNECTION_FORCED on both.

Only the standard library plus the Debian packages python3-pika and python3-amqp.
"""
import datetime
import decimal
import os
import re
import socket
import subprocess
import sys
import time
import unittest
import urllib.parse
import uuid

import amqp
import amqp.exceptions
import pika
import pika.exceptions
import pika.spec

URL = os.environ.get('AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672/')
_U = urllib.parse.urlparse(URL)
HOST = _U.hostname or '127.0.0.1'
PORT = _U.port or 5672
USER = urllib.parse.unquote(_U.username or 'guest')
PASSWORD = urllib.parse.unquote(_U.password or 'guest')
VHOST = urllib.parse.unquote(_U.path[1:]) if len(_U.path) > 1 else '/'
RUN = uuid.uuid4().hex[:8]

GEN_NAME = re.compile(r'^amq\.gen-[A-Za-z0-9_-]{22}$')
GEN_CTAG = re.compile(r'^amq\.ctag-[A-Za-z0-9_-]{22}$')


def rmq_text(text):
    """RabbitMQ caps reply texts at 255 bytes: the first 252 and '...'."""
    raw = text.encode('utf-8')
    return text if len(raw) <= 255 else raw[:252].decode('utf-8', 'ignore') + '...'


def locked_text(queue):
    return rmq_text(
        "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '%s' in vhost '%s'. It could "
        "be originally declared on another connection or the exclusive property value does not match "
        "that of the original declaration." % (queue, VHOST))


def wait_until(pred, timeout=5.0, pump=None, what='condition'):
    deadline = time.time() + timeout
    while not pred():
        if time.time() > deadline:
            raise AssertionError('timed out waiting for ' + what)
        if pump is not None:
            pump()
        else:
            time.sleep(0.02)


# ---------------------------------------------------------------------------------------------- pika

def pika_params(**kw):
    return pika.ConnectionParameters(
        host=HOST, port=PORT, virtual_host=kw.pop('virtual_host', VHOST),
        credentials=pika.PlainCredentials(kw.pop('user', USER), kw.pop('password', PASSWORD)),
        connection_attempts=1, **kw)


def pika_conn(**kw):
    return pika.BlockingConnection(pika_params(**kw))


class ClientCase(unittest.TestCase):
    """One connection and channel per test (CONNECT opens one); names are unique per run and test."""

    PREFIX = None
    CONNECT = None

    def setUp(self):
        self.conns = []
        self.conn = self.open_conn()
        self.ch = self.conn.channel()

    def tearDown(self):
        for c in self.conns:
            try:
                c.close()
            except Exception:  # noqa: BLE001 - best effort cleanup (already closed, broker gone)
                pass

    def open_conn(self, **kw):
        c = type(self).CONNECT(**kw)
        self.conns.append(c)
        return c

    def name(self, local):
        return '%s.%s.%s.%s' % (self.PREFIX, RUN, self._testMethodName, local)


class PikaCase(ClientCase):
    PREFIX = 'py'
    CONNECT = staticmethod(pika_conn)

    def pump(self, conn=None):
        (conn or self.conn).process_data_events(time_limit=0.05)

    def tmp_queue(self, ch=None, **kw):
        return (ch or self.ch).queue_declare('', exclusive=True, **kw).method.queue

    def ready(self, queue, ch=None):
        return (ch or self.ch).queue_declare(queue, passive=True).method.message_count

    def wait_ready(self, queue, n, ch=None):
        # RabbitMQ answers queue.declare passive before earlier publishes reach the queue (gen_server2
        # priorities), so counts after publishing are polled.
        wait_until(lambda: self.ready(queue, ch) == n, what='%d ready in %s' % (n, queue))

    def assert_channel_closed(self, code, text, fn, *args, **kwargs):
        with self.assertRaises(pika.exceptions.ChannelClosedByBroker) as cm:
            fn(*args, **kwargs)
        self.assertEqual((cm.exception.reply_code, cm.exception.reply_text), (code, text))
        return cm.exception

    def assert_connection_closed(self, code, text, fn, *args, **kwargs):
        with self.assertRaises(pika.exceptions.ConnectionClosedByBroker) as cm:
            fn(*args, **kwargs)
        self.assertEqual((cm.exception.reply_code, cm.exception.reply_text), (code, text))
        return cm.exception


class P01Handshake(PikaCase):
    def test_server_properties_and_capabilities(self):
        props = self.conn._impl.server_properties
        for key in ('product', 'version', 'platform', 'capabilities'):
            self.assertIn(key, props)
        caps = props['capabilities']
        # connection.blocked is left out on purpose: Warren does not advertise it (README).
        for cap in ('publisher_confirms', 'exchange_exchange_bindings', 'basic.nack', 'consumer_cancel_notify',
                    'consumer_priorities', 'authentication_failure_close', 'per_consumer_qos', 'direct_reply_to'):
            self.assertIs(caps.get(cap), True, cap)
        self.assertTrue(self.conn.basic_nack_supported)
        self.assertTrue(self.conn.consumer_cancel_notify_supported)
        self.assertTrue(self.conn.exchange_exchange_bindings_supported)
        self.assertTrue(self.conn.publisher_confirms_supported)

    def test_negotiated_defaults(self):
        p = self.conn._impl.params
        self.assertEqual((p.channel_max, p.frame_max, p.heartbeat), (2047, 131072, 60))

    def test_client_lowers_limits(self):
        c = self.open_conn(channel_max=4, frame_max=4096, heartbeat=7)
        p = c._impl.params
        self.assertEqual((p.channel_max, p.frame_max, p.heartbeat), (4, 4096, 7))
        chans = [c.channel() for _ in range(4)]
        self.assertEqual(sorted(ch.channel_number for ch in chans), [1, 2, 3, 4])
        with self.assertRaises(pika.exceptions.NoFreeChannels):
            c.channel()
        # A message spanning many 4096-byte frames.
        q = chans[3].queue_declare('', exclusive=True).method.queue
        body = bytes(range(256)) * 80
        chans[3].basic_publish('', q, body)
        m, _, b = chans[3].basic_get(q, auto_ack=True)
        self.assertEqual(b, body)

    def test_client_asks_for_longer_heartbeat(self):
        c = self.open_conn(heartbeat=600)
        self.assertEqual(c._impl.params.heartbeat, 600)
        c.channel().queue_declare('', exclusive=True)

    def test_heartbeat_disabled(self):
        c = self.open_conn(heartbeat=0)
        self.assertEqual(c._impl.params.heartbeat, 0)
        self.assertIsNone(c._impl._heartbeat_checker)
        c.channel().queue_declare('', exclusive=True)

    def test_heartbeats_keep_an_idle_connection_alive(self):
        c = self.open_conn(heartbeat=1)
        ch = c.channel()
        c.sleep(3.5)
        self.assertTrue(c.is_open)
        hb = c._impl._heartbeat_checker
        self.assertGreaterEqual(hb._heartbeat_frames_received, 2)
        self.assertGreaterEqual(hb._heartbeat_frames_sent, 2)
        ch.queue_declare('', exclusive=True)

    def test_server_drops_a_silent_client(self):
        c = self.open_conn(heartbeat=1)
        ch = c.channel()
        time.sleep(6)  # the client's ioloop does not run: no heartbeats go out
        with self.assertRaises(pika.exceptions.AMQPConnectionError):
            ch.queue_declare('', exclusive=True)
            c.process_data_events(time_limit=1)
        self.assertTrue(c.is_closed)

    def test_blocked_connection_timeout_parameter(self):
        c = self.open_conn(blocked_connection_timeout=2)
        calls = []
        c.add_on_connection_blocked_callback(lambda *a: calls.append('blocked'))
        c.add_on_connection_unblocked_callback(lambda *a: calls.append('unblocked'))
        ch = c.channel()
        q = ch.queue_declare('', exclusive=True).method.queue
        for i in range(50):
            ch.basic_publish('', q, b'x' * 1000)
        c.sleep(0.3)
        self.assertEqual(self.ready(q, ch), 50)
        self.assertEqual(calls, [])
        self.assertTrue(c.is_open)

    def test_wrong_password(self):
        with self.assertRaises(pika.exceptions.AMQPConnectionError) as cm:
            pika_conn(password='not-the-password')
        err = cm.exception
        # pika wraps the broker's 403 in a ProbableAuthenticationError / ConnectionClosedByBroker chain.
        text = repr(err)
        self.assertIn('ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN', text)
        self.assertIn('403', text)

    def test_missing_vhost(self):
        with self.assertRaises(pika.exceptions.AMQPConnectionError) as cm:
            pika_conn(virtual_host='py-no-such-vhost')
        text = repr(cm.exception)
        self.assertIn('530', text)
        self.assertIn('NOT_ALLOWED - vhost py-no-such-vhost not found', text)

    def test_close_and_reopen(self):
        for _ in range(5):
            c = pika_conn()
            c.channel().queue_declare('', exclusive=True)
            c.close()
            self.assertTrue(c.is_closed)

    def test_url_parameters(self):
        url = 'amqp://%s:%s@%s:%d/%s?heartbeat=5&frame_max=8192&channel_max=100&blocked_connection_timeout=10' % (
            urllib.parse.quote(USER, safe=''), urllib.parse.quote(PASSWORD, safe=''), HOST, PORT,
            urllib.parse.quote(VHOST, safe=''))
        c = pika.BlockingConnection(pika.URLParameters(url))
        self.conns.append(c)
        p = c._impl.params
        self.assertEqual((p.virtual_host, p.channel_max, p.frame_max, p.heartbeat), (VHOST, 100, 8192, 5))
        c.channel().queue_declare('', exclusive=True)


class P02SelectConnection(unittest.TestCase):
    """The asynchronous adapter: the same handshake driven by callbacks (pika's examples)."""

    def test_async_round_trip_with_confirms_and_heartbeats(self):
        st = {'messages': [], 'acked': set(), 'errors': [], 'closed': None, 'channel_closed': None}
        n = 5

        def fail(why):
            st['errors'].append(why)
            conn.ioloop.stop()

        def on_open(c):
            c.channel(on_open_callback=on_channel)

        def on_channel(ch):
            st['ch'] = ch
            ch.add_on_close_callback(lambda _ch, reason: st.__setitem__('channel_closed', reason))
            ch.queue_declare('', exclusive=True, callback=on_declared)

        def on_declared(frame):
            st['q'] = frame.method.queue
            st['ch'].basic_qos(prefetch_count=2, callback=lambda _f: st['ch'].confirm_delivery(
                ack_nack_callback=on_confirm, callback=on_confirm_selected))

        def on_confirm_selected(_frame):
            st['tag'] = st['ch'].basic_consume(st['q'], on_message, callback=on_consume_ok)

        def on_consume_ok(frame):
            st['consume_ok_tag'] = frame.method.consumer_tag
            for i in range(n):
                st['ch'].basic_publish('', st['q'], b'm%d' % i, pika.BasicProperties(correlation_id=str(i)))

        def on_confirm(frame):
            m = frame.method
            if isinstance(m, pika.spec.Basic.Nack):
                return fail('nack %r' % m)
            upto = m.delivery_tag
            if m.multiple:
                st['acked'].update(range(1, upto + 1))
            else:
                st['acked'].add(upto)
            maybe_done()

        def on_message(ch, method, props, body):
            st['messages'].append((body, props.correlation_id, method.redelivered))
            ch.basic_ack(method.delivery_tag)
            maybe_done()

        def maybe_done():
            if len(st['messages']) == n and st['acked'] >= set(range(1, n + 1)) and 'idle' not in st:
                st['idle'] = True
                # Idle for a while: only heartbeats keep the connection alive (heartbeat=1).
                conn.ioloop.call_later(3.0, lambda: st['ch'].basic_cancel(st['tag'], callback=on_cancel_ok))

        def on_cancel_ok(frame):
            st['cancel_ok_tag'] = frame.method.consumer_tag
            st['ch'].close()
            conn.ioloop.call_later(0.2, conn.close)

        def on_closed(_c, reason):
            st['closed'] = reason
            conn.ioloop.stop()

        conn = pika.SelectConnection(
            pika_params(heartbeat=1), on_open_callback=on_open,
            on_open_error_callback=lambda _c, err: fail('open error %r' % err), on_close_callback=on_closed)
        conn.ioloop.call_later(20, lambda: fail('timeout'))
        conn.ioloop.start()
        self.assertEqual(st['errors'], [])
        self.assertEqual(st['messages'], [(b'm%d' % i, str(i), False) for i in range(n)])
        self.assertEqual(st['consume_ok_tag'], st['tag'])
        self.assertEqual(st['cancel_ok_tag'], st['tag'])
        self.assertIsInstance(st['channel_closed'], pika.exceptions.ChannelClosedByClient)
        self.assertIsInstance(st['closed'], pika.exceptions.ConnectionClosedByClient)
        self.assertGreaterEqual(conn._heartbeat_checker._heartbeat_frames_received if conn._heartbeat_checker else 2, 2)

    def test_async_channel_error_then_reuse(self):
        st = {'errors': [], 'closes': [], 'reopened': False}

        def on_open(c):
            c.channel(on_open_callback=on_channel)

        def on_channel(ch):
            ch.add_on_close_callback(on_channel_closed)
            ch.queue_declare('py.%s.async.missing' % RUN, passive=True)

        def on_channel_closed(ch, reason):
            st['closes'].append((reason.reply_code, reason.reply_text))
            conn.channel(on_open_callback=on_second)

        def on_second(ch):
            st['second_number'] = ch.channel_number
            ch.queue_declare('', exclusive=True, callback=lambda f: (st.__setitem__('reopened', True), conn.close()))

        conn = pika.SelectConnection(pika_params(), on_open_callback=on_open,
                                     on_close_callback=lambda *_: conn.ioloop.stop())
        conn.ioloop.call_later(10, lambda: (st['errors'].append('timeout'), conn.ioloop.stop()))
        conn.ioloop.start()
        self.assertEqual(st['errors'], [])
        self.assertEqual(st['closes'], [(404, "NOT_FOUND - no queue 'py.%s.async.missing' in vhost '%s'" % (RUN, VHOST))])
        self.assertTrue(st['reopened'])


class P03Topology(PikaCase):
    def test_exchange_types_and_passive(self):
        for kind in ('direct', 'fanout', 'topic', 'headers'):
            x = self.name(kind)
            self.ch.exchange_declare(x, kind, durable=False, auto_delete=False)
            self.ch.exchange_declare(x, kind, passive=True)
            self.ch.exchange_declare(x, 'fanout' if kind != 'fanout' else 'direct', passive=True)
            self.ch.exchange_delete(x)
        self.ch.exchange_declare('amq.direct', 'direct', durable=True)
        self.ch.exchange_declare('amq.topic', passive=True)

    def test_exchange_declare_passive_missing(self):
        x = self.name('nope')
        self.assert_channel_closed(404, "NOT_FOUND - no exchange '%s' in vhost '%s'" % (x, VHOST),
                                   self.ch.exchange_declare, x, passive=True)

    def test_exchange_redeclare_other_type(self):
        x = self.name('x')
        self.ch.exchange_declare(x, 'direct')
        self.assert_channel_closed(
            406, "PRECONDITION_FAILED - inequivalent arg 'type' for exchange '%s' in vhost '%s': "
                 "received 'fanout' but current is 'direct'" % (x, VHOST),
            self.ch.exchange_declare, x, 'fanout')

    def test_exchange_durable_auto_delete_internal_flags(self):
        x = self.name('x')
        self.ch.exchange_declare(x, 'topic', durable=True, auto_delete=False, internal=True)
        self.assert_channel_closed(
            406, "PRECONDITION_FAILED - inequivalent arg 'durable' for exchange '%s' in vhost '%s': "
                 "received 'false' but current is 'true'" % (x, VHOST),
            self.ch.exchange_declare, x, 'topic', durable=False, internal=True)
        ch = self.conn.channel()
        self.assert_channel_closed(
            403, "ACCESS_REFUSED - cannot publish to internal exchange '%s' in vhost '%s'" % (x, VHOST),
            lambda: (ch.basic_publish(x, 'k', b''), ch.queue_declare('', exclusive=True)))
        self.conn.channel().exchange_delete(x)

    def test_exchange_declare_with_arguments_alternate_exchange(self):
        ae, x = self.name('ae'), self.name('x')
        self.ch.exchange_declare(ae, 'fanout')
        self.ch.exchange_declare(x, 'direct', arguments={'alternate-exchange': ae})
        q = self.tmp_queue()
        self.ch.queue_bind(q, ae)
        self.ch.basic_publish(x, 'unbound-key', b'to-ae')
        self.assertEqual(self.ch.basic_get(q, auto_ack=True)[2], b'to-ae')
        self.ch.exchange_delete(x)
        self.ch.exchange_delete(ae)

    def test_reserved_names(self):
        self.assert_channel_closed(
            403, "ACCESS_REFUSED - exchange name 'amq.py-test' contains reserved prefix 'amq.*'",
            self.ch.exchange_declare, 'amq.py-test', 'direct')
        ch = self.conn.channel()
        self.assert_channel_closed(
            403, "ACCESS_REFUSED - queue name 'amq.py-test' contains reserved prefix 'amq.*'",
            ch.queue_declare, 'amq.py-test')
        ch = self.conn.channel()
        q = self.tmp_queue(ch)
        self.assert_channel_closed(403, 'ACCESS_REFUSED - operation not permitted on the default exchange',
                                   ch.queue_bind, q, '', 'k')
        ch = self.conn.channel()
        self.assert_channel_closed(
            403, "ACCESS_REFUSED - deletion of system exchange 'amq.fanout' in vhost '%s' not allowed" % VHOST,
            ch.exchange_delete, 'amq.fanout')

    def test_server_named_queue(self):
        ok = self.ch.queue_declare('', exclusive=True)
        self.assertRegex(ok.method.queue, GEN_NAME)
        self.assertEqual((ok.method.message_count, ok.method.consumer_count), (0, 0))
        ok2 = self.ch.queue_declare('')
        self.assertRegex(ok2.method.queue, GEN_NAME)
        self.assertNotEqual(ok.method.queue, ok2.method.queue)
        self.ch.queue_delete(ok2.method.queue)

    def test_queue_declare_counts(self):
        q = self.tmp_queue()
        for i in range(3):
            self.ch.basic_publish('', q, b'%d' % i)
        self.ch.basic_qos(prefetch_count=1)
        self.ch.basic_consume(q, lambda *a: None)
        wait_until(lambda: self.ready(q) == 2, pump=self.pump)
        ok = self.ch.queue_declare(q, passive=True)
        self.assertEqual((ok.method.message_count, ok.method.consumer_count), (2, 1))
        # Redeclaring a server-named queue by name is refused: the amq. prefix is checked first.
        self.assert_channel_closed(403, "ACCESS_REFUSED - queue name '%s' contains reserved prefix 'amq.*'" % q,
                                   self.ch.queue_declare, q, exclusive=True)

    def test_queue_declare_passive_missing(self):
        q = self.name('nope')
        self.assert_channel_closed(404, "NOT_FOUND - no queue '%s' in vhost '%s'" % (q, VHOST),
                                   self.ch.queue_declare, q, passive=True)

    def test_queue_arguments_and_equivalence(self):
        q = self.name('q')
        args = {'x-message-ttl': 60000, 'x-max-length': 100, 'x-dead-letter-exchange': 'amq.fanout',
                'x-expires': 600000, 'x-queue-mode': 'default', 'x-unknown': 'ignored'}
        self.ch.queue_declare(q, durable=True, arguments=args)
        self.ch.queue_declare(q, durable=True, arguments=dict(args, **{'x-unknown': 'other'}))
        self.assert_channel_closed(
            406, "PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' for queue '%s' in vhost '%s': "
                 "received '2000' but current is '60000'" % (q, VHOST),
            self.ch.queue_declare, q, durable=True, arguments=dict(args, **{'x-message-ttl': 2000}))
        ch = self.conn.channel()
        self.assert_channel_closed(
            406, "PRECONDITION_FAILED - inequivalent arg 'x-max-priority' for queue '%s' in vhost '%s': "
                 "received the value '5' of type 'signedint' but current is none" % (q, VHOST),
            ch.queue_declare, q, durable=True, arguments=dict(args, **{'x-max-priority': 5}))
        ch = self.conn.channel()
        self.assert_channel_closed(
            406, "PRECONDITION_FAILED - inequivalent arg 'durable' for queue '%s' in vhost '%s': "
                 "received 'false' but current is 'true'" % (q, VHOST),
            ch.queue_declare, q, durable=False, arguments=args)
        ch = self.conn.channel()
        self.assertEqual(ch.queue_delete(q).method.message_count, 0)

    def test_invalid_queue_arguments(self):
        q = self.name('q')
        self.assert_channel_closed(
            406, "PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue '%s' in vhost '%s': "
                 "{value_negative,-1}" % (q, VHOST),
            self.ch.queue_declare, q, arguments={'x-message-ttl': -1})
        ch = self.conn.channel()
        self.assert_channel_closed(
            406, "PRECONDITION_FAILED - invalid arg 'x-max-length' for queue '%s' in vhost '%s': "
                 "\"expected integer, got longstr\"" % (q, VHOST),
            ch.queue_declare, q, arguments={'x-max-length': '10'})

    def test_exclusive_queue_from_other_connection(self):
        q = self.name('q')
        self.ch.queue_declare(q, exclusive=True)
        other = self.open_conn().channel()
        self.assert_channel_closed(405, locked_text(q), other.queue_declare, q, passive=True)
        other = self.conns[-1].channel()
        self.assert_channel_closed(405, locked_text(q), other.basic_consume, q, lambda *a: None)
        other = self.conns[-1].channel()
        self.assert_channel_closed(405, locked_text(q), other.basic_get, q)
        other = self.conns[-1].channel()
        other.basic_publish('', q, b'from-other')  # publishing is allowed
        self.wait_ready(q, 1)
        self.assertEqual(self.ch.basic_get(q, auto_ack=True)[2], b'from-other')
        self.conn.close()
        other = self.conns[-1].channel()
        self.assert_channel_closed(404, "NOT_FOUND - no queue '%s' in vhost '%s'" % (q, VHOST),
                                   other.queue_declare, q, passive=True)

    def test_auto_delete_queue(self):
        q = self.name('q')
        self.ch.queue_declare(q, auto_delete=True)
        tag = self.ch.basic_consume(q, lambda *a: None)
        self.ch.basic_cancel(tag)
        probe = self.conn.channel()

        def gone():
            nonlocal probe
            try:
                probe.queue_declare(q, passive=True)
                return False
            except pika.exceptions.ChannelClosedByBroker as e:
                self.assertEqual(e.reply_code, 404)
                return True
        wait_until(gone, what='auto-delete')
        probe = None

    def test_bind_unbind_direct_topic_fanout(self):
        q = self.tmp_queue()
        x = self.name('topic')
        self.ch.exchange_declare(x, 'topic', auto_delete=True)
        self.ch.queue_bind(q, x, 'a.*')
        self.ch.queue_bind(q, x, 'b.#')
        for key in ('a.b', 'a', 'b', 'b.c.d', 'c.a'):
            self.ch.basic_publish(x, key, key.encode())
        got = []
        while True:
            m = self.ch.basic_get(q, auto_ack=True)
            if m[0] is None:
                break
            got.append(m[2].decode())
            self.assertEqual(m[0].exchange, x)
            self.assertEqual(m[0].routing_key, m[2].decode())
        self.assertEqual(got, ['a.b', 'b', 'b.c.d'])
        self.ch.queue_unbind(q, x, 'a.*')
        self.ch.queue_unbind(q, x, 'never-bound')
        self.ch.basic_publish(x, 'a.b', b'')
        self.assertEqual(self.ready(q), 0)
        self.ch.queue_bind(q, 'amq.fanout')
        self.ch.basic_publish('amq.fanout', 'whatever', b'f')
        self.assertEqual(self.ch.basic_get(q, auto_ack=True)[2], b'f')
        self.ch.queue_unbind(q, 'amq.fanout')

    def test_headers_exchange(self):
        q_all, q_any = self.tmp_queue(), self.tmp_queue()
        x = self.name('h')
        self.ch.exchange_declare(x, 'headers')
        self.ch.queue_bind(q_all, x, arguments={'x-match': 'all', 'a': 1, 'b': 'two'})
        self.ch.queue_bind(q_any, x, arguments={'x-match': 'any', 'a': 1, 'b': 'two'})
        self.ch.basic_publish(x, '', b'both', pika.BasicProperties(headers={'a': 1, 'b': 'two', 'c': True}))
        self.ch.basic_publish(x, '', b'a-only', pika.BasicProperties(headers={'a': 1}))
        self.ch.basic_publish(x, '', b'a-str', pika.BasicProperties(headers={'a': '1'}))
        self.wait_ready(q_all, 1)
        self.wait_ready(q_any, 2)
        self.ch.exchange_delete(x)
        ch = self.conn.channel()
        self.assert_channel_closed(
            406, 'PRECONDITION_FAILED - Invalid x-match field value <<"some">>; expected all, any, all-with-x, or any-with-x',
            ch.queue_bind, q_all, 'amq.headers', arguments={'x-match': 'some'})

    def test_exchange_to_exchange_bindings(self):
        src, dst = self.name('src'), self.name('dst')
        self.ch.exchange_declare(src, 'topic')
        self.ch.exchange_declare(dst, 'fanout')
        q = self.tmp_queue()
        self.ch.queue_bind(q, dst)
        self.ch.exchange_bind(dst, src, 'k.#')
        self.ch.basic_publish(src, 'k.1', b'through')
        self.ch.basic_publish(src, 'other', b'not')
        self.assertEqual(self.ch.basic_get(q, auto_ack=True)[2], b'through')
        self.assertEqual(self.ready(q), 0)
        self.ch.exchange_unbind(dst, src, 'k.#')
        self.ch.basic_publish(src, 'k.1', b'')
        self.assertEqual(self.ready(q), 0)
        self.assert_channel_closed(404, "NOT_FOUND - no exchange '%s' in vhost '%s'" % (self.name('none'), VHOST),
                                   self.ch.exchange_bind, dst, self.name('none'))
        ch = self.conn.channel()
        ch.exchange_delete(src)
        ch.exchange_delete(dst)

    def test_purge_and_delete_counts(self):
        q = self.name('q')
        self.ch.queue_declare(q)
        for i in range(4):
            self.ch.basic_publish('', q, b'x')
        self.assertEqual(self.ch.queue_purge(q).method.message_count, 4)
        self.ch.basic_publish('', q, b'x')
        self.assert_channel_closed(406, "PRECONDITION_FAILED - queue '%s' in vhost '%s' not empty" % (q, VHOST),
                                   self.ch.queue_delete, q, if_empty=True)
        ch = self.conn.channel()
        self.assertEqual(ch.queue_delete(q).method.message_count, 1)
        self.assertEqual(ch.queue_delete(q).method.message_count, 0)  # idempotent
        ch.exchange_delete(self.name('never-existed'))


class P04Publish(PikaCase):
    HEADERS = {
        'str': 'h\u00e9llo', 'int': 42, 'neg': -7, 'big': 2 ** 40, 'true': True, 'false': False,
        'none': None, 'dec': decimal.Decimal('12.345'), 'negdec': decimal.Decimal('-1.5'),
        'ts': datetime.datetime(2020, 1, 2, 3, 4, 5), 'bytes': b'\x00\x01\xff',
        'nested': {'a': {'b': [1, 'two', {'three': decimal.Decimal('3.5')}], 'c': decimal.Decimal('0.01')}},
        'arr': [1, 'x', [2, [3, []]], {'k': 'v'}, None, True, datetime.datetime(1999, 12, 31, 23, 59, 59)],
        'empty_table': {}, 'empty_array': [], '': 'empty key', 'x-death-like': [{'count': 1, 'queue': 'q'}],
    }

    def full_properties(self):
        return pika.BasicProperties(
            content_type='application/json', content_encoding='utf-8', headers=self.HEADERS, delivery_mode=2,
            priority=7, correlation_id='corr-1', reply_to='reply.q', expiration='600000', message_id='m-1',
            timestamp=1700000000, type='kind', user_id=USER, app_id='py-test', cluster_id='c1')

    def assert_same_properties(self, got, want):
        for attr in ('content_type', 'content_encoding', 'headers', 'delivery_mode', 'priority', 'correlation_id',
                     'reply_to', 'expiration', 'message_id', 'timestamp', 'type', 'user_id', 'app_id', 'cluster_id'):
            self.assertEqual(getattr(got, attr), getattr(want, attr), attr)

    def test_properties_round_trip_basic_get(self):
        q = self.tmp_queue()
        props = self.full_properties()
        self.ch.basic_publish('', q, b'{"a":1}', props)
        method, got, body = self.ch.basic_get(q, auto_ack=True)
        self.assertEqual(body, b'{"a":1}')
        self.assert_same_properties(got, props)
        self.assertEqual((method.exchange, method.routing_key, method.redelivered, method.message_count),
                         ('', q, False, 0))

    def test_properties_round_trip_consume(self):
        q = self.tmp_queue()
        props = self.full_properties()
        self.ch.basic_publish('', q, b'body', props)
        for method, got, body in self.ch.consume(q, auto_ack=True, inactivity_timeout=5):
            self.assertIsNotNone(method)
            self.assertEqual(body, b'body')
            self.assert_same_properties(got, props)
            break
        self.ch.cancel()

    def test_no_properties(self):
        q = self.tmp_queue()
        self.ch.basic_publish('', q, b'')
        method, props, body = self.ch.basic_get(q, auto_ack=True)
        self.assertEqual(body, b'')
        self.assertIsNone(props.headers)
        self.assertIsNone(props.delivery_mode)

    def test_persistent_message_in_durable_queue(self):
        q = self.name('q')
        self.ch.queue_declare(q, durable=True)
        self.ch.basic_publish('', q, b'p', pika.BasicProperties(delivery_mode=pika.spec.PERSISTENT_DELIVERY_MODE))
        m, props, body = self.ch.basic_get(q, auto_ack=True)
        self.assertEqual((props.delivery_mode, body), (2, b'p'))
        self.ch.queue_delete(q)

    def test_priority_queue(self):
        q = self.tmp_queue(arguments={'x-max-priority': 5})
        for p in (1, 5, 0, 9, None):
            self.ch.basic_publish('', q, str(p).encode(), pika.BasicProperties(priority=p))
        got = [self.ch.basic_get(q, auto_ack=True)[2] for _ in range(5)]
        self.assertEqual(got, [b'5', b'9', b'1', b'0', b'None'])

    def test_per_message_expiration(self):
        q = self.tmp_queue()
        self.ch.basic_publish('', q, b'dead', pika.BasicProperties(expiration='0'))
        self.ch.basic_publish('', q, b'alive', pika.BasicProperties(expiration='60000'))
        m, props, body = self.ch.basic_get(q, auto_ack=True)
        self.assertEqual((body, props.expiration), (b'alive', '60000'))

    def test_invalid_expiration(self):
        q = self.tmp_queue()
        self.assert_channel_closed(
            406, "PRECONDITION_FAILED - invalid expiration 'soon': no_integer",
            lambda: (self.ch.basic_publish('', q, b'', pika.BasicProperties(expiration='soon')), self.ready(q)))

    def test_user_id_mismatch(self):
        q = self.tmp_queue()
        self.assert_channel_closed(
            406, "PRECONDITION_FAILED - user_id property set to 'mallory' but authenticated user was '%s'" % USER,
            lambda: (self.ch.basic_publish('', q, b'', pika.BasicProperties(user_id='mallory')), self.ready(q)))

    def test_publish_to_missing_exchange(self):
        x = self.name('nope')
        self.assert_channel_closed(404, "NOT_FOUND - no exchange '%s' in vhost '%s'" % (x, VHOST),
                                   lambda: (self.ch.basic_publish(x, 'k', b''), self.tmp_queue()))
        self.assertTrue(self.ch.is_closed)
        self.assertTrue(self.conn.is_open)

    def test_mandatory_return_without_confirms(self):
        returned = []
        self.ch.add_on_return_callback(lambda ch, method, props, body: returned.append((method, props, body)))
        x = self.name('x')
        self.ch.exchange_declare(x, 'direct', auto_delete=True)
        self.ch.basic_publish(x, 'nowhere', b'back', pika.BasicProperties(message_id='r1', headers={'h': 1}),
                              mandatory=True)
        self.ch.basic_publish('', self.name('no-such-queue'), b'back2', mandatory=True)
        self.ch.basic_publish(x, 'nowhere', b'dropped', mandatory=False)
        wait_until(lambda: len(returned) >= 2, pump=self.pump, what='basic.return')
        self.conn.process_data_events(time_limit=0.2)
        self.assertEqual(len(returned), 2)
        m, props, body = returned[0]
        self.assertEqual((m.reply_code, m.reply_text, m.exchange, m.routing_key), (312, 'NO_ROUTE', x, 'nowhere'))
        self.assertEqual((props.message_id, props.headers, body), ('r1', {'h': 1}, b'back'))
        m, props, body = returned[1]
        self.assertEqual((m.reply_code, m.exchange, m.routing_key, body), (312, '', self.name('no-such-queue'), b'back2'))
        self.ch.exchange_delete(x)

    def test_confirms_ack(self):
        self.ch.confirm_delivery()
        q = self.tmp_queue()
        for i in range(20):
            self.ch.basic_publish('', q, b'%d' % i, mandatory=True)
        self.ch.basic_publish('', q, b'x' * 300000)
        self.assertEqual(self.ready(q), 21)

    def test_confirms_unroutable(self):
        self.ch.confirm_delivery()
        with self.assertRaises(pika.exceptions.UnroutableError) as cm:
            self.ch.basic_publish('amq.direct', self.name('nowhere'), b'u', pika.BasicProperties(message_id='u1'),
                                  mandatory=True)
        msgs = cm.exception.messages
        self.assertEqual(len(msgs), 1)
        self.assertEqual((msgs[0].method.reply_code, msgs[0].method.reply_text), (312, 'NO_ROUTE'))
        self.assertEqual((msgs[0].properties.message_id, msgs[0].body), ('u1', b'u'))
        # Unroutable without mandatory: just acked.
        self.ch.basic_publish('amq.direct', self.name('nowhere'), b'u')

    def test_confirms_nack_reject_publish(self):
        self.ch.confirm_delivery()
        q = self.tmp_queue(arguments={'x-max-length': 1, 'x-overflow': 'reject-publish'})
        self.ch.basic_publish('', q, b'1')
        with self.assertRaises(pika.exceptions.NackError) as cm:
            self.ch.basic_publish('', q, b'2')
        self.wait_ready(q, 1)

    def test_confirms_publish_to_missing_exchange(self):
        self.ch.confirm_delivery()
        x = self.name('nope')
        self.assert_channel_closed(404, "NOT_FOUND - no exchange '%s' in vhost '%s'" % (x, VHOST),
                                   self.ch.basic_publish, x, 'k', b'')

    def test_publish_then_close_at_once(self):
        # pika scripts publish and close straight away: everything sent before close is routed.
        q = self.name('q')
        self.ch.queue_declare(q)
        c = pika_conn()
        ch = c.channel()
        for i in range(300):
            ch.basic_publish('', q, b'x' * 1000)
        c.close()
        a = amqp_conn()
        ach = a.channel()
        for i in range(300):
            ach.basic_publish(amqp.Message(b'y' * 1000), '', q)
        a.close()
        self.wait_ready(q, 600)
        self.ch.queue_delete(q)

    def test_large_messages(self):
        q = self.tmp_queue()
        sizes = [0, 1, 131063, 131064, 131065, 131072, 300000, 1 << 20, 5 * (1 << 20) + 3]
        bodies = [os.urandom(n) for n in sizes]
        for b in bodies:
            self.ch.basic_publish('', q, b)
        for b in bodies:
            self.assertEqual(self.ch.basic_get(q, auto_ack=True)[2], b)
        self.ch.confirm_delivery()
        for b in bodies[-3:]:
            self.ch.basic_publish('', q, b)
        got = []
        for method, props, body in self.ch.consume(q, inactivity_timeout=10):
            self.assertIsNotNone(method)
            got.append(body)
            self.ch.basic_ack(method.delivery_tag)
            if len(got) == 3:
                break
        self.ch.cancel()
        self.assertEqual(got, bodies[-3:])

    def test_header_frame_over_frame_max(self):
        # pika cannot split a content header: headers bigger than frame_max make one oversized frame.
        q = self.tmp_queue()
        self.assert_connection_closed(
            501, 'FRAME_ERROR - type 2, all octets = <<>>: {frame_too_large,200025,131064}',
            lambda: (self.ch.basic_publish('', q, b'x', pika.BasicProperties(headers={'h': 'y' * 200000})),
                     self.ready(q)))

    def test_large_messages_small_frame_max(self):
        c = self.open_conn(frame_max=4096)
        ch = c.channel()
        q = ch.queue_declare('', exclusive=True).method.queue
        body = os.urandom(200000)
        ch.basic_publish('', q, body, pika.BasicProperties(headers={'big': 'y' * 3000}))
        m, props, b = ch.basic_get(q, auto_ack=True)
        self.assertEqual((b, props.headers), (body, {'big': 'y' * 3000}))


class P05Consume(PikaCase):
    def consume_n(self, q, n, ch=None, auto_ack=False, timeout=5):
        ch = ch or self.ch
        out = []
        for method, props, body in ch.consume(q, auto_ack=auto_ack, inactivity_timeout=timeout):
            if method is None:
                break
            out.append((method, props, body))
            if len(out) == n:
                break
        return out

    def test_consume_ack_callback_style(self):
        q = self.tmp_queue()
        for i in range(10):
            self.ch.basic_publish('', q, b'%d' % i)
        got = []

        def on_message(ch, method, props, body):
            got.append((method.delivery_tag, body, method.consumer_tag, method.exchange, method.routing_key))
            ch.basic_ack(method.delivery_tag)
            if len(got) == 10:
                ch.stop_consuming()
        tag = self.ch.basic_consume(q, on_message, consumer_tag='my-tag')
        self.assertEqual(tag, 'my-tag')
        self.ch.start_consuming()
        self.assertEqual(got, [(i + 1, b'%d' % i, 'my-tag', '', q) for i in range(10)])
        self.assertEqual(self.ready(q), 0)
        self.assertEqual(self.ch.consumer_tags, [])

    def test_auto_ack(self):
        q = self.tmp_queue()
        for i in range(3):
            self.ch.basic_publish('', q, b'%d' % i)
        got = self.consume_n(q, 3, auto_ack=True)
        self.assertEqual([b for _, _, b in got], [b'0', b'1', b'2'])
        self.ch.cancel()
        self.ch.close()
        ch = self.conn.channel()
        self.assertEqual(self.ready(q, ch), 0)

    def test_nack_and_reject_requeue(self):
        q = self.tmp_queue()
        self.ch.basic_publish('', q, b'a')
        self.ch.basic_publish('', q, b'b')
        (m1, _, b1), (m2, _, b2) = self.consume_n(q, 2)
        self.assertFalse(m1.redelivered)
        self.ch.basic_nack(m1.delivery_tag, requeue=True)
        self.ch.basic_reject(m2.delivery_tag, requeue=True)
        (m3, _, b3), (m4, _, b4) = self.consume_n(q, 2)
        self.assertEqual([(b3, m3.redelivered, m3.delivery_tag), (b4, m4.redelivered, m4.delivery_tag)],
                         [(b'a', True, 3), (b'b', True, 4)])
        self.ch.basic_ack(m4.delivery_tag, multiple=True)
        self.ch.cancel()
        self.assertEqual(self.ready(q), 0)

    def test_nack_multiple_requeues_in_order(self):
        q = self.tmp_queue()
        for i in range(5):
            self.ch.basic_publish('', q, b'%d' % i)
        got = self.consume_n(q, 5)
        self.ch.basic_nack(got[3][0].delivery_tag, multiple=True, requeue=True)
        self.ch.basic_ack(got[4][0].delivery_tag)
        again = self.consume_n(q, 4)
        self.assertEqual([(b, m.redelivered) for m, _, b in again], [(b'%d' % i, True) for i in range(4)])
        self.ch.basic_ack(0, multiple=True)
        self.ch.cancel()
        self.assertEqual(self.ready(q), 0)

    def test_reject_to_dead_letter_exchange(self):
        dlq = self.tmp_queue()
        dlx = self.name('dlx')
        self.ch.exchange_declare(dlx, 'fanout', auto_delete=True)
        self.ch.queue_bind(dlq, dlx)
        q = self.tmp_queue(arguments={'x-dead-letter-exchange': dlx})
        self.ch.basic_publish('', q, b'dl', pika.BasicProperties(headers={'keep': 'me'}, expiration='60000'))
        (m, _, _), = self.consume_n(q, 1)
        self.ch.basic_reject(m.delivery_tag, requeue=False)
        self.ch.cancel()
        wait_until(lambda: self.ready(dlq) == 1, what='dead letter')
        m, props, body = self.ch.basic_get(dlq, auto_ack=True)
        self.assertEqual((body, m.exchange, m.routing_key), (b'dl', dlx, q))
        h = props.headers
        self.assertEqual(h['keep'], 'me')
        self.assertIsNone(props.expiration)
        death = h['x-death'][0]
        self.assertEqual({k: death[k] for k in ('count', 'reason', 'queue', 'exchange', 'routing-keys',
                                                 'original-expiration')},
                         {'count': 1, 'reason': 'rejected', 'queue': q, 'exchange': '', 'routing-keys': [q],
                          'original-expiration': '60000'})
        self.assertIsInstance(death['time'], datetime.datetime)
        self.assertEqual((h['x-first-death-reason'], h['x-first-death-queue'], h['x-first-death-exchange']),
                         ('rejected', q, ''))

    def test_retry_with_dead_letter_exchange_and_ttl(self):
        # The common pika retry pattern: reject -> DLX -> TTL queue -> expired back to the work queue.
        work, retry, dlx = self.name('work'), self.name('retry'), self.name('dlx')
        self.ch.exchange_declare(dlx, 'direct', auto_delete=True)
        self.ch.queue_declare(work, exclusive=True, arguments={'x-dead-letter-exchange': dlx,
                                                               'x-dead-letter-routing-key': 'retry'})
        self.ch.queue_declare(retry, exclusive=True, arguments={'x-message-ttl': 50, 'x-dead-letter-exchange': '',
                                                                'x-dead-letter-routing-key': work})
        self.ch.queue_bind(retry, dlx, 'retry')
        self.ch.basic_publish('', work, b'job', pika.BasicProperties(headers={'a': 1}))
        seen = []
        for method, props, body in self.ch.consume(work, inactivity_timeout=5):
            self.assertIsNotNone(method)
            seen.append(props.headers)
            if len(seen) < 3:
                self.ch.basic_reject(method.delivery_tag, requeue=False)
            else:
                self.ch.basic_ack(method.delivery_tag)
                break
        self.ch.cancel()
        self.assertEqual(seen[0], {'a': 1})
        last = seen[2]
        deaths = [{k: v for k, v in d.items() if k != 'time'} for d in last['x-death']]
        self.assertEqual(deaths, [
            {'count': 2, 'exchange': dlx, 'queue': retry, 'reason': 'expired', 'routing-keys': ['retry']},
            {'count': 2, 'exchange': '', 'queue': work, 'reason': 'rejected', 'routing-keys': [work]},
        ])
        self.assertEqual((last['x-first-death-queue'], last['x-first-death-reason'], last['a']), (work, 'rejected', 1))

    def test_qos_prefetch_count(self):
        q = self.tmp_queue()
        for i in range(5):
            self.ch.basic_publish('', q, b'%d' % i)
        self.ch.basic_qos(prefetch_count=2)
        got = []
        for method, props, body in self.ch.consume(q, inactivity_timeout=0.5):
            if method is None:
                break
            got.append(method)
        self.assertEqual(len(got), 2)
        self.assertEqual(self.ready(q), 3)
        self.ch.basic_ack(got[1].delivery_tag, multiple=True)
        more = []
        for method, props, body in self.ch.consume(q, inactivity_timeout=0.5):
            if method is None:
                break
            more.append(method)
        self.assertEqual([m.delivery_tag for m in more], [3, 4])
        self.ch.cancel()

    def test_qos_global_shared_by_consumers(self):
        q1, q2 = self.tmp_queue(), self.tmp_queue()
        for q in (q1, q2):
            for i in range(3):
                self.ch.basic_publish('', q, b'x')
        self.ch.basic_qos(prefetch_count=1, global_qos=True)
        got = []
        self.ch.basic_consume(q1, lambda ch, m, p, b: got.append(m))
        self.ch.basic_consume(q2, lambda ch, m, p, b: got.append(m))
        self.conn.process_data_events(time_limit=0.6)
        self.assertEqual(len(got), 1)
        self.ch.basic_ack(got[0].delivery_tag)
        self.conn.process_data_events(time_limit=0.6)
        self.assertEqual(len(got), 2)

    def qos_deliveries(self, settings):
        q = self.tmp_queue()
        for i in range(10):
            self.ch.basic_publish('', q, b'x')
        self.wait_ready(q, 10)
        for count, global_qos in settings:
            self.ch.basic_qos(prefetch_count=count, global_qos=global_qos)
        got = []
        self.ch.basic_consume(q, lambda ch, m, p, b: got.append(m))
        self.ch.basic_consume(q, lambda ch, m, p, b: got.append(m))
        self.conn.process_data_events(time_limit=0.6)
        return len(got)

    def test_qos_per_consumer_then_global(self):
        # Both limits apply (RabbitMQ's consumer-prefetch guide).
        self.assertEqual(self.qos_deliveries([(2, False), (3, True)]), 3)

    def test_qos_global_then_per_consumer(self):
        # basic.qos global=false lifts the channel-wide limit (rabbit_channel: unlimit_prefetch).
        self.assertEqual(self.qos_deliveries([(3, True), (5, False)]), 10)

    def test_kombu_qos_semantics_celery_prefetch_increase(self):
        # kombu's pyamqp transport (qos_semantics_matches_spec) and Celery's worker (apply_global = not that):
        # against RabbitMQ >= 3.3 Celery sets its prefetch with global=True and raises it while consuming
        # (ETA tasks); the raise must reach the consumer that already exists. With any other product name
        # kombu assumes spec semantics, sends global=False, and the raise never reaches that consumer.
        props = self.conn._impl.server_properties
        version = tuple(int(x) for x in props.get('version', '0').split('.')[:2] if x.isdigit())
        matches_spec = not (props.get('product') == 'RabbitMQ' and version >= (3, 3))
        apply_global = not matches_spec
        q = self.tmp_queue()
        for i in range(6):
            self.ch.basic_publish('', q, b'task')
        self.wait_ready(q, 6)
        self.ch.basic_qos(prefetch_count=2, global_qos=apply_global)
        got = []
        self.ch.basic_consume(q, lambda ch, m, p, b: got.append(m))
        self.conn.process_data_events(time_limit=0.5)
        self.assertEqual(len(got), 2)
        self.ch.basic_qos(prefetch_count=4, global_qos=apply_global)  # QoS.increment_eventually()
        self.conn.process_data_events(time_limit=0.5)
        self.assertEqual(len(got), 4)

    def test_qos_prefetch_size_not_implemented(self):
        self.assert_connection_closed(540, 'NOT_IMPLEMENTED - prefetch_size!=0 (1000)',
                                      self.ch.basic_qos, prefetch_size=1000)

    def test_basic_get(self):
        q = self.tmp_queue()
        self.assertEqual(self.ch.basic_get(q), (None, None, None))
        for i in range(3):
            self.ch.basic_publish('', q, b'%d' % i)
        m1, _, b1 = self.ch.basic_get(q)
        m2, _, b2 = self.ch.basic_get(q, auto_ack=True)
        self.assertEqual((m1.delivery_tag, m1.message_count, b1, m1.redelivered), (1, 2, b'0', False))
        self.assertEqual((m2.delivery_tag, m2.message_count, b2), (2, 1, b'1'))
        self.ch.basic_nack(m1.delivery_tag)
        m3, _, b3 = self.ch.basic_get(q)
        self.assertEqual((m3.delivery_tag, b3, m3.redelivered, m3.message_count), (3, b'0', True, 1))
        self.ch.basic_ack(m3.delivery_tag)
        self.assertEqual(self.ready(q), 1)

    def test_basic_recover(self):
        q = self.tmp_queue()
        for i in range(2):
            self.ch.basic_publish('', q, b'%d' % i)
        got = self.consume_n(q, 2)
        self.assertEqual([m.delivery_tag for m, _, _ in got], [1, 2])
        self.ch.basic_recover(requeue=True)
        again = self.consume_n(q, 2)
        self.assertEqual([(m.delivery_tag, m.redelivered, b) for m, _, b in again], [(3, True, b'0'), (4, True, b'1')])
        self.ch.basic_ack(4, multiple=True)
        self.ch.cancel()

    def test_basic_recover_requeue_false_not_implemented(self):
        self.assert_connection_closed(540, 'NOT_IMPLEMENTED - requeue=false', self.ch.basic_recover, requeue=False)

    def test_channel_close_requeues_unacked(self):
        q = self.tmp_queue()
        ch = self.conn.channel()
        for i in range(3):
            ch.basic_publish('', q, b'%d' % i)
        self.consume_n(q, 3, ch=ch)
        self.assertEqual(self.ready(q), 0)
        ch.close()
        self.assertEqual(self.ready(q), 3)
        m, _, b = self.ch.basic_get(q, auto_ack=True)
        self.assertEqual((b, m.redelivered), (b'0', True))

    def test_consumer_cancelled_when_queue_deleted(self):
        q = self.name('q')
        self.ch.queue_declare(q)
        cancelled = []
        self.ch.add_on_cancel_callback(lambda frame: cancelled.append(frame.method))
        tag = self.ch.basic_consume(q, lambda *a: None)
        self.conn.channel().queue_delete(q)
        wait_until(lambda: cancelled, pump=self.pump, what='basic.cancel')
        self.assertEqual(cancelled[0].consumer_tag, tag)
        self.assertEqual(self.ch.consumer_tags, [])
        self.assertTrue(self.ch.is_open)
        self.tmp_queue()

    def test_consume_generator_cancelled_when_queue_deleted(self):
        q = self.name('q')
        self.ch.queue_declare(q)
        self.ch.basic_publish('', q, b'one')
        gen = self.ch.consume(q, inactivity_timeout=5)
        method, _, body = next(gen)
        self.assertEqual(body, b'one')
        self.ch.basic_ack(method.delivery_tag)
        self.conn.channel().queue_delete(q)
        with self.assertRaises(StopIteration):
            while True:
                ev = next(gen)
                self.assertIsNotNone(ev[0], 'generator must end on cancel, not time out')
        self.assertTrue(self.ch.is_open)

    def test_basic_cancel_keeps_unacked(self):
        q = self.tmp_queue()
        for i in range(2):
            self.ch.basic_publish('', q, b'%d' % i)
        got = []
        tag = self.ch.basic_consume(q, lambda ch, m, p, b: got.append(m))
        wait_until(lambda: len(got) == 2, pump=self.pump)
        self.ch.basic_cancel(tag)
        self.ch.basic_ack(got[1].delivery_tag, multiple=True)
        self.assertEqual(self.ready(q), 0)

    def test_exclusive_consumer(self):
        q = self.tmp_queue()
        self.ch.basic_consume(q, lambda *a: None, exclusive=True)
        ch2 = self.conn.channel()
        self.assert_channel_closed(403, "ACCESS_REFUSED - queue '%s' in vhost '%s' in exclusive use" % (q, VHOST),
                                   ch2.basic_consume, q, lambda *a: None)
        q2 = self.tmp_queue()
        self.ch.basic_consume(q2, lambda *a: None)
        ch3 = self.conn.channel()
        self.assert_channel_closed(403, "ACCESS_REFUSED - queue '%s' in vhost '%s' in exclusive use" % (q2, VHOST),
                                   ch3.basic_consume, q2, lambda *a: None, exclusive=True)

    def test_consumer_priority_argument(self):
        q = self.tmp_queue()
        low, high = [], []
        self.ch.basic_qos(prefetch_count=1)
        self.ch.basic_consume(q, lambda ch, m, p, b: low.append(b), arguments={'x-priority': 1})
        self.ch.basic_consume(q, lambda ch, m, p, b: high.append(b), arguments={'x-priority': 10})
        self.ch.basic_publish('', q, b'x')
        wait_until(lambda: low or high, pump=self.pump)
        self.assertEqual((low, high), ([], [b'x']))

    def test_consume_argument_validation(self):
        q = self.tmp_queue()
        self.assert_channel_closed(
            406, "PRECONDITION_FAILED - invalid arg 'x-priority' for queue '%s' in vhost '%s': "
                 "\"expected integer, got longstr\"" % (q, VHOST),
            self.ch.basic_consume, q, lambda *a: None, arguments={'x-priority': 'high'})
        ch = self.conn.channel()
        self.assert_channel_closed(
            406, "PRECONDITION_FAILED - invalid arg 'x-cancel-on-ha-failover' for queue '%s' in vhost '%s': "
                 "{unacceptable_type,signedint}" % (q, VHOST),
            ch.basic_consume, q, lambda *a: None, arguments={'x-cancel-on-ha-failover': 1})
        ch = self.conn.channel()
        self.assert_channel_closed(
            406, "PRECONDITION_FAILED - invalid arg 'x-stream-offset' for queue '%s' in vhost '%s' of queue type "
                 "rabbit_classic_queue" % (q, VHOST),
            ch.basic_consume, q, lambda *a: None, arguments={'x-stream-offset': 'first'})
        ch = self.conn.channel()
        ch.basic_consume(q, lambda *a: None, arguments={'x-priority': 2 ** 40, 'x-cancel-on-ha-failover': True,
                                                         'x-unknown': 'ignored'})

    def test_unknown_delivery_tag(self):
        q = self.tmp_queue()
        self.ch.basic_ack(42)
        self.assert_channel_closed(406, 'PRECONDITION_FAILED - unknown delivery tag 42', self.ready, q)

    def test_double_ack(self):
        q = self.tmp_queue()
        self.ch.basic_publish('', q, b'x')
        m, _, _ = self.ch.basic_get(q)
        self.ch.basic_ack(m.delivery_tag)
        self.ch.basic_ack(m.delivery_tag)
        self.assert_channel_closed(406, 'PRECONDITION_FAILED - unknown delivery tag 1', self.ready, q)

    def test_transactions(self):
        q = self.tmp_queue()
        self.ch.tx_select()
        self.ch.basic_publish('', q, b'1')
        self.ch.basic_publish('', q, b'2')
        probe = self.conn.channel()
        self.assertEqual(self.ready(q, probe), 0)
        self.ch.tx_commit()
        self.assertEqual(self.ready(q, probe), 2)
        self.ch.basic_publish('', q, b'3')
        self.ch.tx_rollback()
        self.assertEqual(self.ready(q, probe), 2)
        m, _, b = self.ch.basic_get(q)
        self.ch.tx_commit()
        self.ch.basic_ack(m.delivery_tag)
        self.ch.tx_rollback()  # the ack is undone: the message stays unacked
        self.ch.basic_ack(m.delivery_tag)
        self.ch.tx_commit()
        self.assertEqual(self.ready(q, probe), 1)
        self.ch.tx_commit()  # empty commit

    def test_tx_mandatory_return_at_commit(self):
        returned = []
        self.ch.add_on_return_callback(lambda ch, m, p, b: returned.append(b))
        self.ch.tx_select()
        self.ch.basic_publish('amq.direct', self.name('nowhere'), b'r', mandatory=True)
        self.conn.process_data_events(time_limit=0.3)
        self.assertEqual(returned, [])
        self.ch.tx_commit()
        wait_until(lambda: returned, pump=self.pump)
        self.assertEqual(returned, [b'r'])

    def test_tx_errors(self):
        self.assert_channel_closed(406, 'PRECONDITION_FAILED - channel is not transactional', self.ch.tx_commit)
        ch = self.conn.channel()
        ch.confirm_delivery()
        self.assert_channel_closed(406, 'PRECONDITION_FAILED - cannot switch from confirm to tx mode', ch.tx_select)

    def test_flow_active(self):
        self.assertTrue(self.ch.flow(True))


class P06ErrorsAndChannels(PikaCase):
    def test_channel_error_leaves_connection_usable(self):
        other = self.conn.channel()
        q = self.tmp_queue(other)
        for i in range(30):
            ch = self.conn.channel()
            self.assert_channel_closed(404, "NOT_FOUND - no queue '%s' in vhost '%s'" % (self.name('n'), VHOST),
                                       ch.queue_declare, self.name('n'), passive=True)
            other.basic_publish('', q, b'%d' % i)
        self.wait_ready(q, 30, other)
        self.assertTrue(self.conn.is_open)

    def test_hard_error_unknown_exchange_type(self):
        self.assert_connection_closed(503, "COMMAND_INVALID - unknown exchange type 'x-nope'",
                                      self.ch.exchange_declare, self.name('x'), 'x-nope')
        self.assertTrue(self.conn.is_closed)

    def test_many_channels(self):
        chans = [self.conn.channel() for _ in range(300)]
        q = self.tmp_queue()
        for i, ch in enumerate(chans):
            ch.basic_publish('', q, b'%d' % i)
        chans[-1].confirm_delivery()
        chans[-1].basic_publish('', q, b'last')
        self.assertEqual(self.ready(q), 301)
        for ch in chans[::2]:
            ch.close()
        more = [self.conn.channel() for _ in range(150)]
        self.assertEqual(len({c.channel_number for c in more + chans[1::2]}), 300)
        for ch in more:
            ch.queue_declare(q, passive=True)

    def test_channel_numbers_up_to_channel_max(self):
        c = self.open_conn(channel_max=2047)
        chans = [c.channel() for _ in range(2047)]
        self.assertEqual(max(ch.channel_number for ch in chans), 2047)
        chans[-1].queue_declare('', exclusive=True)
        with self.assertRaises(pika.exceptions.NoFreeChannels):
            c.channel()

    def test_explicit_channel_number(self):
        ch = self.conn.channel(channel_number=2000)
        self.assertEqual(ch.channel_number, 2000)
        ch.queue_declare('', exclusive=True)

    def test_direct_reply_to(self):
        server = self.open_conn().channel()
        server_q = self.tmp_queue(server)
        replies = []
        self.ch.basic_consume('amq.rabbitmq.reply-to', lambda ch, m, p, b: replies.append((m, p, b)), auto_ack=True)
        self.ch.basic_publish('', server_q, b'ping', pika.BasicProperties(reply_to='amq.rabbitmq.reply-to',
                                                                          correlation_id='c-1'))
        req = None
        deadline = time.time() + 5
        while req is None and time.time() < deadline:
            m, p, b = server.basic_get(server_q, auto_ack=True)
            if m is not None:
                req = (m, p, b)
        self.assertIsNotNone(req)
        self.assertTrue(req[1].reply_to.startswith('amq.rabbitmq.reply-to.'), req[1].reply_to)
        server.basic_publish('', req[1].reply_to, b'pong', pika.BasicProperties(correlation_id=req[1].correlation_id))
        wait_until(lambda: replies, pump=self.pump, what='reply')
        m, p, b = replies[0]
        self.assertEqual((b, p.correlation_id, m.exchange, m.routing_key), (b'pong', 'c-1', '', req[1].reply_to))

    def test_direct_reply_to_errors(self):
        q = self.tmp_queue()
        self.assert_channel_closed(
            406, 'PRECONDITION_FAILED - fast reply consumer does not exist',
            lambda: (self.ch.basic_publish('', q, b'', pika.BasicProperties(reply_to='amq.rabbitmq.reply-to')),
                     self.ready(q)))
        ch = self.conn.channel()
        self.assert_channel_closed(406, 'PRECONDITION_FAILED - reply consumer cannot acknowledge',
                                   ch.basic_consume, 'amq.rabbitmq.reply-to', lambda *a: None)


# ------------------------------------------------------------------------------------------- py-amqp

def amqp_conn(**kw):
    c = amqp.Connection(host='%s:%d' % (HOST, PORT), userid=kw.pop('userid', USER),
                        password=kw.pop('password', PASSWORD), virtual_host=kw.pop('virtual_host', VHOST),
                        connect_timeout=5, **kw)
    c.connect()
    return c


def drain_until(conn, pred, timeout=5.0):
    deadline = time.time() + timeout
    while not pred():
        left = deadline - time.time()
        if left <= 0:
            raise AssertionError('timed out draining events')
        try:
            conn.drain_events(timeout=min(left, 0.5))
        except socket.timeout:
            pass


class AmqpCase(ClientCase):
    PREFIX = 'pyamqp'
    CONNECT = staticmethod(amqp_conn)

    def tmp_queue(self, ch=None, **kw):
        # py-amqp's queue_declare defaults to auto_delete=True
        return (ch or self.ch).queue_declare('', exclusive=True, auto_delete=kw.pop('auto_delete', False), **kw).queue

    def ready(self, q, ch=None):
        return (ch or self.ch).queue_declare(q, passive=True).message_count

    def wait_ready(self, q, n, ch=None):
        wait_until(lambda: self.ready(q, ch) == n, what='%d ready in %s' % (n, q))

    def assert_error(self, cls, code, text, fn, *a, **kw):
        with self.assertRaises(cls) as cm:
            fn(*a, **kw)
        self.assertEqual((cm.exception.reply_code, cm.exception.reply_text), (code, text))
        return cm.exception


class A01Connection(AmqpCase):
    def test_handshake(self):
        sp = self.conn.server_properties
        self.assertIn('product', sp)
        self.assertIs(sp['capabilities']['publisher_confirms'], True)
        self.assertEqual((self.conn.channel_max, self.conn.frame_max, self.conn.server_heartbeat), (2047, 131072, 60))
        self.assertEqual(self.conn.heartbeat, 0)  # py-amqp turns heartbeats off unless asked
        self.assertTrue(self.conn.connected)

    def test_login_methods(self):
        for method in ('AMQPLAIN', 'PLAIN'):
            c = self.open_conn(login_method=method)
            c.channel().queue_declare('', exclusive=True)
            c.close()

    def test_heartbeat_negotiation_and_tick(self):
        c = self.open_conn(heartbeat=2)
        self.assertEqual(c.heartbeat, 2)
        ch = c.channel()
        end = time.time() + 5
        while time.time() < end:
            c.heartbeat_tick()  # raises ConnectionForced('Too many heartbeats missed') if the broker is silent
            try:
                c.drain_events(timeout=0.25)
            except socket.timeout:
                pass
        c.send_heartbeat()
        ch.queue_declare('', exclusive=True)

    def test_wrong_password(self):
        self.assert_error(amqp.exceptions.AccessRefused, 403,
                          'ACCESS_REFUSED - Login was refused using authentication mechanism AMQPLAIN. '
                          'For details see the broker logfile.', amqp_conn, password='wrong')

    def test_wrong_password_plain(self):
        self.assert_error(amqp.exceptions.AccessRefused, 403,
                          'ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. '
                          'For details see the broker logfile.', amqp_conn, password='wrong', login_method='PLAIN')

    def test_missing_vhost(self):
        self.assert_error(amqp.exceptions.NotAllowed, 530, 'NOT_ALLOWED - vhost py-no-such-vhost not found',
                          amqp_conn, virtual_host='py-no-such-vhost')

    def test_frame_max_and_large_messages(self):
        c = self.open_conn(frame_max=4096)
        self.assertEqual(c.frame_max, 131072)  # py-amqp adopts the server's proposal
        ch = c.channel()
        q = ch.queue_declare('', exclusive=True).queue
        body = os.urandom(3 * (1 << 20) + 17)
        ch.basic_publish(amqp.Message(body, content_type='application/octet-stream'), '', q)
        m = ch.basic_get(q, no_ack=True)
        self.assertEqual(m.body, body)
        self.assertEqual(m.content_type, 'application/octet-stream')

    def test_many_channels(self):
        chans = [self.conn.channel() for _ in range(200)]
        q = self.tmp_queue()
        for i, ch in enumerate(chans):
            ch.basic_publish(amqp.Message(b'%d' % i), '', q)
        self.wait_ready(q, 200)
        for ch in chans:
            ch.close()
        self.assertEqual(len(self.conn.channels), 2)  # channel 0 and self.ch

    def test_explicit_channel_id(self):
        ch = self.conn.channel(2047)
        self.assertEqual(ch.channel_id, 2047)
        ch.queue_declare('', exclusive=True)

    def test_duplicate_consumer_tag_closes_connection(self):
        q = self.tmp_queue()
        self.ch.basic_consume(q, consumer_tag='dup', callback=lambda m: None)
        self.assert_error(amqp.exceptions.NotAllowed, 530, "NOT_ALLOWED - attempt to reuse consumer tag 'dup'",
                          self.ch.basic_consume, q, consumer_tag='dup', callback=lambda m: None)
        self.assertFalse(self.conn.connected)

    def test_unknown_exchange_type_closes_connection(self):
        self.assert_error(amqp.exceptions.InvalidCommand, 503, "COMMAND_INVALID - unknown exchange type 'x-nope'",
                          self.ch.exchange_declare, self.name('x'), 'x-nope')

    def test_channel_flow(self):
        self.ch.flow(True)
        self.tmp_queue()
        self.assert_error(amqp.exceptions.AMQPNotImplementedError, 540, 'NOT_IMPLEMENTED - active=false',
                          self.ch.flow, False)


class A02Messaging(AmqpCase):
    HEADERS = {
        'str': 'h\u00e9llo', 'int': 7, 'neg': -70000, 'big': 2 ** 40, 'float': 2.5, 'true': True, 'none': None,
        'dec': decimal.Decimal('3.14'), 'ts': datetime.datetime(2021, 6, 7, 8, 9, 10),
        'nested': {'a': [1, {'b': 'c'}, [decimal.Decimal('1.5')]], 'e': {}},
        'list': ['a', 1, False, None, []],
    }

    def test_publish_get_properties(self):
        q = self.tmp_queue()
        msg = amqp.Message(
            'text body \u00e9', content_type='text/plain', content_encoding='utf-8', application_headers=self.HEADERS,
            delivery_mode=2, priority=3, correlation_id='c', reply_to='r', expiration='600000', message_id='id',
            timestamp=1640995200, type='t', user_id=USER, app_id='a')
        self.ch.basic_publish(msg, '', q)
        m = self.ch.basic_get(q, no_ack=False)
        self.assertEqual(m.body, 'text body \u00e9')
        self.assertEqual(m.headers, self.HEADERS)
        for k in ('content_type', 'content_encoding', 'delivery_mode', 'priority', 'correlation_id', 'reply_to',
                  'expiration', 'message_id', 'type', 'user_id', 'app_id'):
            self.assertEqual(m.properties[k], msg.properties[k], k)
        self.assertEqual(m.properties['timestamp'], 1640995200)
        self.assertEqual((m.delivery_info['routing_key'], m.delivery_info['exchange'], m.delivery_info['redelivered'],
                          m.delivery_info['message_count'], m.delivery_tag), (q, '', False, 0, 1))
        self.ch.basic_ack(m.delivery_tag)
        self.assertIsNone(self.ch.basic_get(q))

    def test_consume_server_generated_tag(self):
        q = self.tmp_queue()
        got = []
        tag = self.ch.basic_consume(q, callback=got.append)
        self.assertRegex(tag, GEN_CTAG)
        for i in range(5):
            self.ch.basic_publish(amqp.Message(b'%d' % i), '', q)
        drain_until(self.conn, lambda: len(got) == 5)
        self.assertEqual([m.body for m in got], [b'%d' % i for i in range(5)])
        self.assertEqual({m.delivery_info['consumer_tag'] for m in got}, {tag})
        self.ch.basic_ack(got[-1].delivery_tag, multiple=True)
        self.ch.basic_cancel(tag)
        self.assertEqual(self.ready(q), 0)

    def test_consume_no_ack_and_reject(self):
        q = self.tmp_queue()
        self.ch.basic_publish(amqp.Message(b'a'), '', q)
        got = []
        tag = self.ch.basic_consume(q, callback=got.append)
        drain_until(self.conn, lambda: got)
        self.ch.basic_reject(got[0].delivery_tag, requeue=True)
        drain_until(self.conn, lambda: len(got) == 2)
        self.assertTrue(got[1].delivery_info['redelivered'])
        self.ch.basic_reject(got[1].delivery_tag, requeue=False)
        self.ch.basic_cancel(tag)
        self.assertEqual(self.ready(q), 0)
        self.ch.basic_publish(amqp.Message(b'b'), '', q)
        got2 = []
        self.ch.basic_consume(q, callback=got2.append, no_ack=True)
        drain_until(self.conn, lambda: got2)
        self.assertEqual(got2[0].body, b'b')

    def test_nowait_operations(self):
        x, q = self.name('x'), self.name('q')
        self.ch.exchange_declare(x, 'direct', auto_delete=False, nowait=True)
        self.ch.queue_declare(q, nowait=True, auto_delete=False, arguments={'x-max-length': 10})
        self.ch.queue_bind(q, x, 'k', nowait=True)
        self.ch.exchange_bind(x, 'amq.direct', 'k', nowait=True)
        self.ch.basic_qos(0, 5, False)
        got = []
        self.ch.basic_consume(q, consumer_tag='nw', callback=got.append, nowait=True)
        self.ch.basic_publish(amqp.Message(b'1'), x, 'k')
        self.ch.basic_publish(amqp.Message(b'2'), 'amq.direct', 'k')
        drain_until(self.conn, lambda: len(got) == 2)
        self.assertEqual([m.body for m in got], [b'1', b'2'])
        self.ch.basic_ack(got[1].delivery_tag, multiple=True)
        self.ch.basic_cancel('nw', nowait=True)
        self.ch.queue_unbind(q, x, 'k', nowait=True)
        self.ch.exchange_unbind(x, 'amq.direct', 'k', nowait=True)
        self.ch.basic_publish(amqp.Message(b'3'), x, 'k')
        self.assertEqual(self.ch.queue_declare(q, passive=True)[1:], (0, 0))
        self.ch.basic_publish(amqp.Message(b'4'), '', q)
        self.ch.queue_purge(q, nowait=True)
        self.assertEqual(self.ready(q), 0)
        self.ch.queue_delete(q, nowait=True)
        self.ch.exchange_delete(x, nowait=True)
        self.assert_error(amqp.exceptions.NotFound, 404, "NOT_FOUND - no queue '%s' in vhost '%s'" % (q, VHOST),
                          self.ch.queue_declare, q, passive=True)

    def test_nowait_errors_still_close_the_channel(self):
        q = self.tmp_queue()
        self.ch.queue_bind(q, self.name('missing'), 'k', nowait=True)
        self.assert_error(amqp.exceptions.NotFound, 404, "NOT_FOUND - no exchange '%s' in vhost '%s'"
                          % (self.name('missing'), VHOST), self.ch.queue_declare, q, passive=True)
        ch = self.conn.channel()
        ch.queue_declare(self.name('nw'), nowait=True, arguments={'x-message-ttl': 'x'})
        self.assert_error(amqp.exceptions.PreconditionFailed, 406,
                          "PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue '%s' in vhost '%s': "
                          "\"expected integer, got longstr\"" % (self.name('nw'), VHOST),
                          ch.queue_declare, q, passive=True)

    def test_double_argument(self):
        q = self.name('q')
        self.assert_error(amqp.exceptions.PreconditionFailed, 406,
                          "PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue '%s' in vhost '%s': "
                          "\"expected integer, got double\"" % (q, VHOST),
                          self.ch.queue_declare, q, arguments={'x-message-ttl': 1.5})

    def test_mandatory_return(self):
        returned = []
        self.ch.events['basic_return'].add(lambda exc, exchange, routing_key, message:
                                           returned.append((exc.reply_code, exc.reply_text, exchange, routing_key,
                                                            message.body)))
        self.ch.basic_publish(amqp.Message(b'r'), 'amq.direct', self.name('nowhere'), mandatory=True)
        drain_until(self.conn, lambda: returned)
        self.assertEqual(returned, [(312, 'NO_ROUTE', 'amq.direct', self.name('nowhere'), b'r')])

    def test_confirm_publish(self):
        c = self.open_conn(confirm_publish=True)
        ch = c.channel()
        q = ch.queue_declare('', exclusive=True, arguments={'x-max-length': 2, 'x-overflow': 'reject-publish'}).queue
        ch.basic_publish(amqp.Message(b'1'), '', q)
        ch.basic_publish(amqp.Message(b'2' * 200000), '', q)
        with self.assertRaises(amqp.exceptions.MessageNacked):
            ch.basic_publish(amqp.Message(b'3'), '', q)
        self.assertEqual(ch.queue_declare(q, passive=True).message_count, 2)
        ch.basic_publish(amqp.Message(b'x'), 'amq.direct', 'nowhere')  # unroutable, not mandatory: acked
        self.assert_error(amqp.exceptions.NotFound, 404, "NOT_FOUND - no exchange '%s' in vhost '%s'"
                          % (self.name('nope'), VHOST), ch.basic_publish, amqp.Message(b''), self.name('nope'), 'k')

    def test_confirm_select_and_acks(self):
        acks = []
        self.ch.confirm_select()
        self.ch.events['basic_ack'].add(lambda tag, multiple: acks.append((tag, multiple)))
        q = self.tmp_queue()
        for i in range(10):
            self.ch.basic_publish(amqp.Message(b'x'), '', q)
        drain_until(self.conn, lambda: acks and max(t for t, _ in acks) == 10)
        covered = set()
        for t, multiple in acks:
            covered |= set(range(1, t + 1)) if multiple else {t}
        self.assertEqual(covered, set(range(1, 11)))

    def test_qos_recover_and_tx(self):
        q = self.tmp_queue()
        for i in range(3):
            self.ch.basic_publish(amqp.Message(b'%d' % i), '', q)
        self.ch.basic_qos(0, 2, False)
        got = []
        tag = self.ch.basic_consume(q, callback=got.append)
        drain_until(self.conn, lambda: len(got) == 2)
        with self.assertRaises(socket.timeout):
            self.conn.drain_events(timeout=0.5)
        self.ch.basic_recover(requeue=True)
        drain_until(self.conn, lambda: len(got) == 4)
        self.assertEqual([(m.body, m.delivery_info['redelivered'], m.delivery_tag) for m in got[2:]],
                         [(b'0', True, 3), (b'1', True, 4)])
        self.ch.tx_select()
        self.ch.basic_ack(4, multiple=True)
        self.ch.tx_rollback()
        self.ch.basic_ack(4, multiple=True)
        self.ch.tx_commit()
        drain_until(self.conn, lambda: len(got) == 5)
        self.ch.basic_ack(got[4].delivery_tag)
        self.ch.tx_commit()
        self.ch.basic_cancel(tag)
        self.assertEqual(self.ready(q), 0)

    def test_consumer_cancel_notification(self):
        q = self.name('q')
        self.ch.queue_declare(q)
        cancelled = []
        tag = self.ch.basic_consume(q, callback=lambda m: None, on_cancel=cancelled.append)
        self.open_conn().channel().queue_delete(q)
        drain_until(self.conn, lambda: cancelled)
        self.assertEqual(cancelled, [tag])
        self.tmp_queue()

    def test_queue_delete_while_consuming_on_the_same_connection(self):
        # RabbitMQ sends queue.delete-ok before the consumers' basic.cancel: py-amqp's queue_delete returns,
        # and the cancel comes with the next drain_events (kombu's Queue.delete while consuming).
        order = []
        for same_channel in (True, False):
            q = self.name('q%d' % same_channel)
            self.ch.queue_declare(q, auto_delete=False)
            cch = self.ch if same_channel else self.conn.channel()
            tag = cch.basic_consume(q, callback=lambda m: None, on_cancel=lambda t: order.append(('cancel', t)))
            self.assertEqual(self.ch.queue_delete(q), 0)
            order.append(('delete-ok', tag))
            drain_until(self.conn, lambda: ('cancel', tag) in order)
            self.assertEqual(order[-2:], [('delete-ok', tag), ('cancel', tag)])
        q = self.name('nohandler')
        self.ch.queue_declare(q, auto_delete=False)
        self.ch.basic_consume(q, callback=lambda m: None)
        self.assertEqual(self.ch.queue_delete(q), 0)  # no ConsumerCancelled out of queue_delete itself
        with self.assertRaises(amqp.exceptions.ConsumerCancelled):
            drain_until(self.conn, lambda: False)

    def test_consumer_argument_validation(self):
        q = self.tmp_queue()
        self.assert_error(amqp.exceptions.PreconditionFailed, 406,
                          "PRECONDITION_FAILED - invalid arg 'x-priority' for queue '%s' in vhost '%s': "
                          "\"expected integer, got double\"" % (q, VHOST),
                          self.ch.basic_consume, q, callback=lambda m: None, arguments={'x-priority': 1.5})
        # py-amqp reopened the channel after the error (kombu relies on that): it works again.
        tag = self.ch.basic_consume(q, callback=lambda m: None, arguments={'x-priority': -3})
        self.assertRegex(tag, GEN_CTAG)

    def test_consumer_cancel_without_handler_raises(self):
        q = self.name('q')
        self.ch.queue_declare(q)
        self.ch.basic_consume(q, callback=lambda m: None)
        self.open_conn().channel().queue_delete(q)
        with self.assertRaises(amqp.exceptions.ConsumerCancelled):
            drain_until(self.conn, lambda: False)

    def test_channel_errors(self):
        self.assert_error(amqp.exceptions.NotFound, 404, "NOT_FOUND - no queue '%s' in vhost '%s'" % (self.name('n'), VHOST),
                          self.ch.queue_declare, self.name('n'), passive=True)
        q = self.name('excl')
        ch = self.conn.channel()
        ch.queue_declare(q, exclusive=True)
        other = self.open_conn().channel()
        self.assert_error(amqp.exceptions.ResourceLocked, 405, locked_text(q), other.queue_declare, q)
        ch2 = self.conn.channel()
        ch2.queue_declare(self.name('d'), durable=True)
        self.assert_error(amqp.exceptions.PreconditionFailed, 406,
                          "PRECONDITION_FAILED - inequivalent arg 'durable' for queue '%s' in vhost '%s': "
                          "received 'false' but current is 'true'" % (self.name('d'), VHOST),
                          ch2.queue_declare, self.name('d'), durable=False)
        ch3 = self.conn.channel()
        ch3.queue_delete(self.name('d'))
        self.assert_error(amqp.exceptions.AccessRefused, 403,
                          "ACCESS_REFUSED - queue name 'amq.x' contains reserved prefix 'amq.*'",
                          ch3.queue_declare, 'amq.x')
        ch4 = self.conn.channel()
        ch4.basic_ack(9)
        self.assert_error(amqp.exceptions.PreconditionFailed, 406, 'PRECONDITION_FAILED - unknown delivery tag 9',
                          ch4.queue_declare, '', exclusive=True)
        self.assertTrue(self.conn.connected)
        self.conn.channel().queue_declare('', exclusive=True)

    def test_direct_reply_to(self):
        server = self.open_conn().channel()
        sq = server.queue_declare('', exclusive=True).queue
        replies = []
        self.ch.basic_consume('amq.rabbitmq.reply-to', callback=replies.append, no_ack=True)
        self.ch.basic_publish(amqp.Message(b'ping', reply_to='amq.rabbitmq.reply-to', correlation_id='7'), '', sq)
        req = None
        deadline = time.time() + 5
        while req is None and time.time() < deadline:
            req = server.basic_get(sq, no_ack=True)
        self.assertIsNotNone(req)
        self.assertTrue(req.reply_to.startswith('amq.rabbitmq.reply-to.'))
        server.basic_publish(amqp.Message(b'pong', correlation_id=req.correlation_id), '', req.reply_to)
        drain_until(self.conn, lambda: replies)
        self.assertEqual((replies[0].body, replies[0].correlation_id), (b'pong', '7'))


class Z99ServerShutdown(unittest.TestCase):
    """Runs last: stops the broker with AMQP_SHUTDOWN_CMD and expects 320 on every open connection."""

    @unittest.skipUnless(os.environ.get('AMQP_SHUTDOWN_CMD'), 'AMQP_SHUTDOWN_CMD not set')
    def test_connection_forced_on_shutdown(self):
        pc = pika_conn()
        pch = pc.channel()
        pq = pch.queue_declare('', exclusive=True).method.queue
        pch.basic_consume(pq, lambda *a: None)
        ac = amqp_conn()
        ach = ac.channel()
        ach.basic_consume(ach.queue_declare('', exclusive=True).queue, callback=lambda m: None)
        # Record py-amqp's connection.close before it answers close-ok: a stopping RabbitMQ may already
        # have reset the socket by then, so the close-ok write can fail with ECONNRESET.
        amqp_closes = []
        on_close = ac._callbacks[amqp.spec.Connection.Close]

        def spy(reply_code, reply_text, class_id, method_id):
            amqp_closes.append((reply_code, reply_text))
            return on_close(reply_code, reply_text, class_id, method_id)
        ac._callbacks[amqp.spec.Connection.Close] = spy
        proc = subprocess.Popen(os.environ['AMQP_SHUTDOWN_CMD'], shell=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        text = "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'"
        pika_error = amqp_error = None
        try:
            deadline = time.time() + 60
            while (pika_error is None or amqp_error is None) and time.time() < deadline:
                if pika_error is None:
                    try:
                        pc.process_data_events(time_limit=0.05)
                    except pika.exceptions.AMQPConnectionError as e:
                        pika_error = e
                if amqp_error is None:
                    try:
                        ac.drain_events(timeout=0.05)
                    except socket.timeout:
                        pass
                    except (amqp.exceptions.ConnectionForced, OSError) as e:
                        amqp_error = e
        finally:
            proc.wait(120)
        self.assertIsInstance(pika_error, pika.exceptions.ConnectionClosedByBroker)
        self.assertEqual((pika_error.reply_code, pika_error.reply_text), (320, text))
        self.assertEqual(amqp_closes, [(320, text)])
        if isinstance(amqp_error, amqp.exceptions.ConnectionForced):
            self.assertEqual((amqp_error.reply_code, amqp_error.reply_text), (320, text))


def load_suite():
    loader = unittest.TestLoader()
    mod = sys.modules[__name__]
    names = sorted(n for n in dir(mod) if isinstance(getattr(mod, n), type)
                   and issubclass(getattr(mod, n), unittest.TestCase)
                   and getattr(mod, n) not in (PikaCase, AmqpCase))
    return unittest.TestSuite(loader.loadTestsFromTestCase(getattr(mod, n)) for n in names)


if __name__ == '__main__':
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument('-v', action='store_true')
    ap.add_argument('-k', action='append', default=[])
    args = ap.parse_args()
    suite = load_suite()
    if args.k:
        flat = []

        def walk(s):
            for t in s:
                if isinstance(t, unittest.TestSuite):
                    walk(t)
                else:
                    flat.append(t)
        walk(suite)
        suite = unittest.TestSuite(t for t in flat if any(k in t.id() for k in args.k))
    print('broker %s:%d vhost %r run %s; pika %s, py-amqp %s' % (HOST, PORT, VHOST, RUN, pika.__version__,
                                                                   amqp.__version__), flush=True)
    result = unittest.TextTestRunner(verbosity=2 if args.v else 1, stream=sys.stdout).run(suite)
    sys.exit(0 if result.wasSuccessful() else 1)
