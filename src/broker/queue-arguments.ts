/**
 * Queue arguments (`x-…`) as RabbitMQ 3.10 validates them on queue.declare (rabbit_amqqueue:declare_args/0)
 * and compares them on redeclare (assert_args_equivalence). Unknown arguments are kept and ignored, as in
 * RabbitMQ. Known arguments Warren does not implement are refused with 540 NOT_IMPLEMENTED, never ignored.
 */
import { type FieldTable, type FieldValue, fieldString } from '../types/field-table.js';
import { notImplemented, preconditionFailed } from '../errors.js';
import { FIELD_TYPE_NAMES, formatFieldValue, isIntegerType, typeClass } from './field-type-names.js';

export type OverflowBehaviour = 'drop-head' | 'reject-publish' | 'reject-publish-dlx';

export interface QueueArguments {
  readonly messageTtl: number | undefined;
  readonly expires: number | undefined;
  readonly maxLength: number | undefined;
  readonly maxLengthBytes: number | undefined;
  readonly overflow: OverflowBehaviour;
  readonly deadLetterExchange: string | undefined;
  readonly deadLetterRoutingKey: string | undefined;
  readonly singleActiveConsumer: boolean;
  readonly maxPriority: number | undefined;
}

/** rabbit_misc ?MAX_EXPIRY_TIMER: the largest timer Erlang accepts, in ms. */
const MAX_EXPIRY = 4294967295;

type Check = (v: FieldValue, args: FieldTable) => string | undefined;

const intValue = (v: FieldValue): number =>
  v.type === 'l' || v.type === 'T' ? Number(v.value) : (v.value as number);

const checkInt: Check = (v) => (isIntegerType(v.type) ? undefined : `"expected integer, got ${FIELD_TYPE_NAMES[v.type]}"`);

const checkExpiry = (n: number): string | undefined =>
  n < 0 ? `{value_negative,${n}}` : n > MAX_EXPIRY ? `{value_too_large,${n}}` : undefined;

const checkNonNegInt: Check = (v, a) => checkInt(v, a) ?? (intValue(v) < 0 ? `{value_negative,${intValue(v)}}` : undefined);

const checkLongstrIn = (allowed: readonly string[], error: string): Check => (v) => {
  if (v.type !== 'S') return `{unacceptable_type,${FIELD_TYPE_NAMES[v.type]}}`;
  return allowed.includes(v.value.toString('utf8')) ? undefined : error;
};

/** The declare arguments RabbitMQ 3.10 knows, each with its validation; order is RabbitMQ's. */
const DECLARE_ARGS: ReadonlyArray<readonly [string, Check]> = [
  ['x-expires', (v, a) => checkInt(v, a) ?? (intValue(v) === 0 ? `{value_zero,0}` : checkExpiry(intValue(v)))],
  ['x-message-ttl', (v, a) => checkInt(v, a) ?? checkExpiry(intValue(v))],
  ['x-dead-letter-exchange', (v) => (v.type === 'S' ? undefined : `{unacceptable_type,${FIELD_TYPE_NAMES[v.type]}}`)],
  ['x-dead-letter-routing-key', (v, a) => {
    if (v.type !== 'S') return `{unacceptable_type,${FIELD_TYPE_NAMES[v.type]}}`;
    return a.has('x-dead-letter-exchange') ? undefined : 'routing_key_but_no_dlx_defined';
  }],
  ['x-max-length', checkNonNegInt],
  ['x-max-length-bytes', checkNonNegInt],
  ['x-max-in-memory-length', checkNonNegInt],
  ['x-max-in-memory-bytes', checkNonNegInt],
  ['x-max-priority', (v, a) => checkNonNegInt(v, a) ?? (intValue(v) > 255 ? `{max_value_exceeded,${intValue(v)}}` : undefined)],
  ['x-overflow', checkLongstrIn(['drop-head', 'reject-publish', 'reject-publish-dlx'], 'invalid_overflow')],
  ['x-queue-mode', checkLongstrIn(['default', 'lazy'], 'invalid_queue_mode')],
  ['x-single-active-consumer', (v) => (v.type === 't' ? undefined : `{unacceptable_type,${FIELD_TYPE_NAMES[v.type]}}`)],
  ['x-queue-type', (v) => {
    if (v.type !== 'S') return `{unacceptable_type,${FIELD_TYPE_NAMES[v.type]}}`;
    const type = v.value.toString('utf8');
    return ['classic', 'quorum', 'stream'].includes(type) ? undefined : `"unsupported queue type '${type}'"`;
  }],
  ['x-quorum-initial-group-size', checkNonNegInt],
  ['x-max-age', (v) => (v.type === 'S' ? undefined : `{unacceptable_type,${FIELD_TYPE_NAMES[v.type]}}`)],
  ['x-stream-max-segment-size-bytes', checkNonNegInt],
  ['x-initial-cluster-size', checkNonNegInt],
  ['x-queue-leader-locator', checkLongstrIn(['client-local', 'balanced', 'random', 'least-leaders'], 'invalid_queue_leader_locator')],
];

export const DECLARE_ARG_KEYS: readonly string[] = DECLARE_ARGS.map(([k]) => k);

export interface QueueFlags {
  readonly durable: boolean;
  readonly exclusive: boolean;
  readonly autoDelete: boolean;
}

/**
 * Arguments Warren knows but does not implement: refused rather than silently ignored. Quorum and
 * stream queues are first checked as RabbitMQ checks them (406 for properties they cannot have), so a
 * declaration that RabbitMQ would refuse gets the same answer here.
 */
function refuseUnimplemented(args: FieldTable, flags: QueueFlags, queueDescription: string): void {
  const type = fieldString(args.get('x-queue-type'));
  if (type !== undefined && type !== 'classic') {
    const invalid = flags.exclusive ? 'exclusive-owner' : !flags.durable ? 'non-durable' : flags.autoDelete ? 'auto-delete' : undefined;
    if (invalid !== undefined) throw preconditionFailed(`invalid property '${invalid}' for ${queueDescription}`);
    throw notImplemented(`queue type '${type}' is not supported by Warren (classic queues only)`);
  }
}

/** Validate a declare's arguments (406 for a bad value, 540 for an unimplemented feature) and parse them. */
export function parseQueueArguments(args: FieldTable, queueDescription: string, flags: QueueFlags): QueueArguments {
  for (const [key, check] of DECLARE_ARGS) {
    const v = args.get(key);
    if (v === undefined) continue;
    const error = check(v, args);
    if (error !== undefined) throw preconditionFailed(`invalid arg '${key}' for ${queueDescription}: ${error}`);
  }
  refuseUnimplemented(args, flags, queueDescription);
  const num = (key: string): number | undefined => {
    const v = args.get(key);
    return v === undefined ? undefined : intValue(v);
  };
  const overflow = fieldString(args.get('x-overflow')) as OverflowBehaviour | undefined;
  const sac = args.get('x-single-active-consumer');
  return {
    messageTtl: num('x-message-ttl'),
    expires: num('x-expires'),
    maxLength: num('x-max-length'),
    maxLengthBytes: num('x-max-length-bytes'),
    overflow: overflow ?? 'drop-head',
    deadLetterExchange: fieldString(args.get('x-dead-letter-exchange')),
    deadLetterRoutingKey: fieldString(args.get('x-dead-letter-routing-key')),
    singleActiveConsumer: sac !== undefined && sac.type === 't' && sac.value,
    maxPriority: num('x-max-priority'),
  };
}

/** The consume arguments RabbitMQ 3.10 checks for every queue type (rabbit_amqqueue:consume_args/0). */
const CONSUME_ARGS: ReadonlyArray<readonly [string, Check]> = [
  ['x-priority', checkInt],
  ['x-cancel-on-ha-failover', (v) => (v.type === 't' ? undefined : `{unacceptable_type,${FIELD_TYPE_NAMES[v.type]}}`)],
];

/**
 * basic.consume arguments, checked as RabbitMQ 3.10 does after finding the queue and before exclusive use
 * (rabbit_amqqueue:basic_consume): the generic checks first, then the classic queue type refuses the
 * stream-only `x-stream-offset`. Unknown arguments are ignored.
 */
export function checkConsumeArguments(args: FieldTable, queueDescription: string): void {
  if (args.size === 0) return;
  for (const [key, check] of CONSUME_ARGS) {
    const v = args.get(key);
    if (v === undefined) continue;
    const error = check(v, args);
    if (error !== undefined) throw preconditionFailed(`invalid arg '${key}' for ${queueDescription}: ${error}`);
  }
  if (args.has('x-stream-offset')) {
    throw preconditionFailed(`invalid arg 'x-stream-offset' for ${queueDescription} of queue type rabbit_classic_queue`);
  }
}

function describeArg(v: FieldValue | undefined): string {
  return v === undefined ? 'none' : `the value '${formatFieldValue(v)}' of type '${FIELD_TYPE_NAMES[v.type]}'`;
}

/**
 * rabbit_misc:assert_args_equivalence/4: for every known declare argument, the new value must equal the
 * current one (integers of any width compare by value). With both present the text shows the two values;
 * with one missing it names the type of the other. x-queue-type defaults to classic on either side.
 */
export function assertArgumentsEquivalent(current: FieldTable, received: FieldTable, entityDescription: string, keys: readonly string[] = DECLARE_ARG_KEYS): void {
  for (const key of keys) {
    const a = current.get(key);
    const b = received.get(key);
    if (a === undefined && b === undefined) continue;
    if (key === 'x-queue-type' && (fieldString(a) ?? 'classic') === (fieldString(b) ?? 'classic')) continue;
    if (a !== undefined && b !== undefined) {
      if (typeClass(a.type) === typeClass(b.type) && formatFieldValue(a) === formatFieldValue(b)) continue;
      throw preconditionFailed(`inequivalent arg '${key}' for ${entityDescription}: received '${formatFieldValue(b)}' but current is '${formatFieldValue(a)}'`);
    }
    throw preconditionFailed(`inequivalent arg '${key}' for ${entityDescription}: received ${describeArg(b)} but current is ${describeArg(a)}`);
  }
}
