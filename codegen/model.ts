/**
 * Loads spec/amqp0-9-1.json, validates it and resolves every field's domain to a wire type, giving
 * the emitters a typed IR. Anything unexpected (an unknown key, domain, wire type or reply target,
 * a duplicate id or name) throws a SpecError naming where it is: the generator never guesses.
 */
import { readFileSync } from 'node:fs';
import { SPEC_NAME, camel, dottedName, methodTypeName } from './naming.js';

/** AMQP 0-9-1 §4.2.5 field types, as the spec's domains resolve to them. */
export const WIRE_TYPES = [
  'bit', 'octet', 'short', 'long', 'longlong', 'shortstr', 'longstr', 'table', 'timestamp',
] as const;
export type WireType = (typeof WIRE_TYPES)[number];

/** Bytes a fixed-width type occupies; bits are packed separately (§4.2.5.2). */
export const FIXED_SIZE: { readonly [T in WireType]?: number } = {
  octet: 1, short: 2, long: 4, longlong: 8, timestamp: 8,
};

export interface FieldModel {
  readonly name: string;
  readonly domain: string;
  readonly type: WireType;
  readonly reserved: boolean;
  readonly doc: string | undefined;
}

export interface MethodModel {
  readonly className: string;
  readonly classId: number;
  readonly name: string;
  readonly index: number;
  /** (classId << 16) | index: the dispatch key. */
  readonly id: number;
  readonly synchronous: boolean;
  readonly content: boolean;
  /** Methods (same class) that answer this one; non-empty means it is a synchronous request. */
  readonly replies: readonly MethodModel[];
  readonly fields: readonly FieldModel[];
  /** The bit field that suppresses the reply, if the method has one. */
  readonly nowait: FieldModel | undefined;
  readonly doc: string | undefined;
}

export interface ClassModel {
  readonly name: string;
  readonly id: number;
  readonly methods: readonly MethodModel[];
  /** Content-header properties, in flag order; empty for classes without content. */
  readonly properties: readonly FieldModel[];
  readonly doc: string | undefined;
}

export interface ConstantModel {
  readonly name: string;
  readonly value: number;
  readonly doc: string | undefined;
}

export interface ReplyCodeModel extends ConstantModel {
  readonly severity: 'success' | 'soft' | 'hard';
}

export interface ProtocolModel {
  readonly version: { readonly major: number; readonly minor: number; readonly revision: number };
  readonly port: number;
  readonly frameTypes: readonly ConstantModel[];
  readonly frameConstants: readonly ConstantModel[];
  readonly replyCodes: readonly ReplyCodeModel[];
  readonly classes: readonly ClassModel[];
  /** Every method of every class, in spec order. */
  readonly methods: readonly MethodModel[];
}

export class SpecError extends Error {
  constructor(where: string, problem: string) {
    super(`spec/amqp0-9-1.json: ${where}: ${problem}`);
    this.name = 'SpecError';
  }
}

type Json = { readonly [key: string]: unknown };

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function object(v: unknown, where: string, required: readonly string[], optional: readonly string[] = []): Json {
  if (!isObject(v)) throw new SpecError(where, 'expected an object');
  for (const key of Object.keys(v)) {
    if (!required.includes(key) && !optional.includes(key)) throw new SpecError(where, `unknown key '${key}'`);
  }
  for (const key of required) {
    if (!(key in v)) throw new SpecError(where, `missing key '${key}'`);
  }
  return v;
}

function array(v: unknown, where: string): readonly unknown[] {
  if (!Array.isArray(v)) throw new SpecError(where, 'expected an array');
  return v;
}

function int(v: unknown, where: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new SpecError(where, `expected an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function bool(v: unknown, where: string, fallback?: boolean): boolean {
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'boolean') throw new SpecError(where, `expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

function optionalString(v: unknown, where: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new SpecError(where, 'expected a string');
  return v;
}

function specName(v: unknown, where: string): string {
  if (typeof v !== 'string' || !SPEC_NAME.test(v)) {
    throw new SpecError(where, `expected a lower-case hyphenated name, got ${JSON.stringify(v)}`);
  }
  return v;
}

function unique<T>(items: readonly T[], key: (t: T) => string | number, where: string, what: string): void {
  const seen = new Set<string | number>();
  for (const item of items) {
    const k = key(item);
    if (seen.has(k)) throw new SpecError(where, `duplicate ${what} ${JSON.stringify(k)}`);
    seen.add(k);
  }
}

function loadDomains(v: unknown): ReadonlyMap<string, WireType> {
  if (!isObject(v)) throw new SpecError('domains', 'expected an object of domain → wire type');
  const domains = new Map<string, WireType>();
  for (const [name, type] of Object.entries(v)) {
    specName(name, `domains.${name}`);
    if (!(WIRE_TYPES as readonly unknown[]).includes(type)) {
      throw new SpecError(`domains.${name}`, `unknown wire type ${JSON.stringify(type)} (known: ${WIRE_TYPES.join(', ')})`);
    }
    domains.set(name, type as WireType);
  }
  return domains;
}

function loadField(v: unknown, where: string, domains: ReadonlyMap<string, WireType>): FieldModel {
  const f = object(v, where, ['name', 'domain'], ['reserved', 'doc']);
  const name = specName(f['name'], `${where}.name`);
  const domain = specName(f['domain'], `${where}.domain`);
  const type = domains.get(domain);
  if (type === undefined) throw new SpecError(`${where} (${name})`, `unknown domain '${domain}'`);
  return {
    name,
    domain,
    type,
    reserved: bool(f['reserved'], `${where}.reserved`, false),
    doc: optionalString(f['doc'], `${where}.doc`),
  };
}

function loadFields(v: unknown, where: string, domains: ReadonlyMap<string, WireType>): FieldModel[] {
  const fields = array(v, where).map((f, i) => loadField(f, `${where}[${i}]`, domains));
  unique(fields, (f) => f.name, where, 'field');
  // Two spec names must not collapse into one TypeScript property.
  unique(fields, (f) => camel(f.name), where, 'camelCase field name');
  return fields;
}

interface PendingMethod {
  readonly method: Omit<MethodModel, 'replies'> & { replies: MethodModel[] };
  readonly replyNames: readonly string[];
}

function loadMethod(v: unknown, where: string, cls: { name: string; id: number }, domains: ReadonlyMap<string, WireType>): PendingMethod {
  const m = object(v, where, ['id', 'name', 'synchronous', 'fields'], ['content', 'replies', 'doc']);
  const name = specName(m['name'], `${where}.name`);
  const at = `${where} (${dottedName(cls.name, name)})`;
  const index = int(m['id'], `${at}.id`, 0, 0xffff);
  const fields = loadFields(m['fields'], `${at}.fields`, domains);
  const replyNames = m['replies'] === undefined ? [] : array(m['replies'], `${at}.replies`).map((r, i) => specName(r, `${at}.replies[${i}]`));
  const nowait = fields.find((f) => f.name === 'nowait');
  if (nowait !== undefined && nowait.type !== 'bit') throw new SpecError(at, 'a nowait field must be a bit');
  const synchronous = bool(m['synchronous'], `${at}.synchronous`);
  if (replyNames.length > 0 && !synchronous) throw new SpecError(at, 'only a synchronous method can expect replies');
  return {
    method: {
      className: cls.name,
      classId: cls.id,
      name,
      index,
      id: cls.id * 0x10000 + index,
      synchronous,
      content: bool(m['content'], `${at}.content`, false),
      replies: [],
      fields,
      nowait,
      doc: optionalString(m['doc'], `${at}.doc`),
    },
    replyNames,
  };
}

function loadClass(v: unknown, where: string, domains: ReadonlyMap<string, WireType>): ClassModel {
  const c = object(v, where, ['id', 'name', 'methods'], ['properties', 'doc']);
  const name = specName(c['name'], `${where}.name`);
  const at = `${where} (${name})`;
  const id = int(c['id'], `${at}.id`, 1, 0xffff);
  const pending = array(c['methods'], `${at}.methods`).map((m, i) => loadMethod(m, `${at}.methods[${i}]`, { name, id }, domains));
  const methods = pending.map((p) => p.method);
  unique(methods, (m) => m.name, `${at}.methods`, 'method name');
  unique(methods, (m) => m.index, `${at}.methods`, 'method id');
  for (const { method, replyNames } of pending) {
    for (const replyName of replyNames) {
      const reply = methods.find((m) => m.name === replyName);
      if (reply === undefined) throw new SpecError(`${at}.${method.name}.replies`, `no method '${replyName}' in class ${name}`);
      method.replies.push(reply);
    }
  }
  const properties = c['properties'] === undefined ? [] : loadFields(c['properties'], `${at}.properties`, domains);
  // One 16-bit flags word holds 15 properties (bit 0 is the continuation flag, §4.2.6.1); no AMQP
  // 0-9-1 class needs more, so the emitter supports exactly one word and refuses anything else.
  if (properties.length > 15) throw new SpecError(`${at}.properties`, 'more than 15 properties needs continuation flag words, which the generator does not emit');
  const bitProperty = properties.find((p) => p.type === 'bit');
  if (bitProperty !== undefined) throw new SpecError(`${at}.properties`, `bit property '${bitProperty.name}' is not supported`);
  const contentMethod = methods.find((m) => m.content);
  if (contentMethod !== undefined && properties.length === 0) {
    throw new SpecError(at, `${contentMethod.name} carries content but the class has no properties`);
  }
  return { name, id, methods, properties, doc: optionalString(c['doc'], `${at}.doc`) };
}

const CONSTANT_KINDS = ['frame-type', 'frame', 'reply-code'] as const;
const SEVERITIES = ['success', 'soft', 'hard'] as const;

function loadConstants(v: unknown): Pick<ProtocolModel, 'frameTypes' | 'frameConstants' | 'replyCodes'> {
  const frameTypes: ConstantModel[] = [];
  const frameConstants: ConstantModel[] = [];
  const replyCodes: ReplyCodeModel[] = [];
  array(v, 'constants').forEach((raw, i) => {
    const where = `constants[${i}]`;
    const c = object(raw, where, ['name', 'value', 'kind'], ['class', 'doc']);
    const name = specName(c['name'], `${where}.name`);
    const constant = { name, value: int(c['value'], `${where} (${name}).value`, 0, 0xffffffff), doc: optionalString(c['doc'], `${where}.doc`) };
    const kind = c['kind'];
    if (kind === 'reply-code') {
      const severity = c['class'];
      if (!(SEVERITIES as readonly unknown[]).includes(severity)) {
        throw new SpecError(`${where} (${name}).class`, `expected one of ${SEVERITIES.join(', ')}, got ${JSON.stringify(severity)}`);
      }
      replyCodes.push({ ...constant, severity: severity as ReplyCodeModel['severity'] });
      return;
    }
    if (c['class'] !== undefined) throw new SpecError(`${where} (${name})`, 'only reply codes have a class');
    if (kind === 'frame-type') {
      if (!name.startsWith('frame-')) throw new SpecError(`${where} (${name})`, 'frame types are named frame-*');
      frameTypes.push(constant);
    } else if (kind === 'frame') {
      frameConstants.push(constant);
    } else {
      throw new SpecError(`${where} (${name}).kind`, `expected one of ${CONSTANT_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
    }
  });
  const all = [...frameTypes, ...frameConstants, ...replyCodes];
  unique(all, (c) => c.name, 'constants', 'name');
  unique(frameTypes, (c) => c.value, 'constants', 'frame type value');
  unique(replyCodes, (c) => c.value, 'constants', 'reply code');
  for (const needed of ['frame-end', 'frame-header-size', 'frame-min-size']) {
    if (!frameConstants.some((c) => c.name === needed)) throw new SpecError('constants', `missing frame constant '${needed}'`);
  }
  if (!frameTypes.some((c) => c.name === 'frame-method')) throw new SpecError('constants', "missing frame type 'frame-method'");
  return { frameTypes, frameConstants, replyCodes };
}

/** Validate a parsed spec document and build the IR. */
export function buildModel(doc: unknown): ProtocolModel {
  const spec = object(doc, 'top level', ['version', 'port', 'constants', 'domains', 'classes'], ['name', 'notes']);
  const v = object(spec['version'], 'version', ['major', 'minor', 'revision']);
  const version = { major: int(v['major'], 'version.major', 0, 255), minor: int(v['minor'], 'version.minor', 0, 255), revision: int(v['revision'], 'version.revision', 0, 255) };
  const domains = loadDomains(spec['domains']);
  const classes = array(spec['classes'], 'classes').map((c, i) => loadClass(c, `classes[${i}]`, domains));
  unique(classes, (c) => c.name, 'classes', 'class name');
  unique(classes, (c) => c.id, 'classes', 'class id');
  const methods = classes.flatMap((c) => c.methods);
  unique(methods, (m) => methodTypeName(m.className, m.name), 'classes', 'method type name');
  return {
    version,
    port: int(spec['port'], 'port', 1, 65535),
    ...loadConstants(spec['constants']),
    classes,
    methods,
  };
}

export function loadModel(specPath: string): ProtocolModel {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(specPath, 'utf8'));
  } catch (err) {
    throw new SpecError(specPath, `cannot read: ${(err as Error).message}`);
  }
  return buildModel(doc);
}

/** Look up a frame constant the emitters rely on (presence is checked when loading). */
export function frameConstant(model: ProtocolModel, name: string): number {
  const c = model.frameConstants.find((k) => k.name === name);
  if (c === undefined) throw new SpecError('constants', `missing frame constant '${name}'`);
  return c.value;
}
