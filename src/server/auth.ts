/**
 * SASL PLAIN (RFC 4616: `\0user\0password`) and RabbitMQ's AMQPLAIN (a field table without its length
 * prefix holding LOGIN and PASSWORD) against the broker's users. Failure texts follow RabbitMQ 3.10's
 * rabbit_reader auth_fail/4 ("<MECH> login refused: ...").
 */
import { timingSafeEqual } from 'node:crypto';
import { readFieldTable } from '../protocol/field-table.js';
import { commandInvalid } from '../errors.js';
import { fieldString } from '../types/field-table.js';

export type Credentials = { ok: true; username: string } | { ok: false; reason: string };

export function authenticate(mechanism: string, response: Buffer, users: ReadonlyMap<string, string>): Credentials {
  let username: string;
  let password: string;
  if (mechanism === 'PLAIN') {
    const parts = response.toString('utf8').split('\0');
    if (parts.length !== 3) return { ok: false, reason: 'PLAIN login refused: malformed response' };
    username = parts[1]!;
    password = parts[2]!;
  } else if (mechanism === 'AMQPLAIN') {
    const prefixed = Buffer.allocUnsafe(4 + response.length);
    prefixed.writeUInt32BE(response.length, 0);
    response.copy(prefixed, 4);
    const table = readFieldTable(prefixed, 0, prefixed.length);
    username = fieldString(table.get('LOGIN')) ?? '';
    password = fieldString(table.get('PASSWORD')) ?? '';
  } else {
    throw commandInvalid(`unknown authentication mechanism '${mechanism}'`);
  }
  const expected = users.get(username);
  if (expected === undefined) return { ok: false, reason: `${mechanism} login refused: user '${username}' - invalid credentials` };
  const a = Buffer.from(password, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    return { ok: false, reason: `${mechanism} login refused: user '${username}' - invalid credentials` };
  }
  return { ok: true, username };
}
