/**
 * Emits src/protocol/generated/methods.ts: per method an Args interface, a Method interface tagged
 * with its id, and straight-line decode/size/encode functions; then the Method union, dispatch on
 * (classId << 16) | methodId, and the lookup tables (names, content, synchronous, replies).
 */
import { FIXED_SIZE, frameConstant, type FieldModel, type MethodModel, type ProtocolModel, type WireType } from './model.js';
import { argsTypeName, camel, decoderName, dottedName, encoderName, localName, methodTypeName, sizerName } from './naming.js';
import { doc, file, hex32, str } from './source.js';

/** Wire type → TypeScript type. longstr is always opaque bytes (see spec notes); 64-bit values are numbers. */
export const TS_TYPE: { readonly [T in WireType]: string } = {
  bit: 'boolean',
  octet: 'number',
  short: 'number',
  long: 'number',
  longlong: 'number',
  timestamp: 'number',
  shortstr: 'string',
  longstr: 'Buffer',
  table: 'FieldTable',
};

/** How a method's arguments lie on the wire: fixed runs (numbers and packed bit octets) and variable fields. */
export type Step =
  | { readonly kind: 'fixed'; readonly size: number; readonly items: readonly FixedItem[] }
  | { readonly kind: 'variable'; readonly field: FieldModel };

export type FixedItem =
  | { readonly kind: 'number'; readonly field: FieldModel; readonly at: number }
  | { readonly kind: 'bits'; readonly fields: readonly FieldModel[]; readonly at: number; readonly group: number };

/**
 * Consecutive bit fields share octets, low bit first, up to 8 per octet (§4.2.5.2); any other field
 * ends the run. Consecutive fixed-width fields form one run so the decoder checks length once.
 */
export function layout(fields: readonly FieldModel[]): Step[] {
  const steps: Step[] = [];
  let run: FixedItem[] = [];
  let runSize = 0;
  let group = 0;
  const flush = (): void => {
    if (run.length > 0) steps.push({ kind: 'fixed', size: runSize, items: run });
    run = [];
    runSize = 0;
  };
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    if (field.type === 'bit') {
      const bits: FieldModel[] = [];
      while (i < fields.length && fields[i]!.type === 'bit' && bits.length < 8) bits.push(fields[i++]!);
      i--;
      run.push({ kind: 'bits', fields: bits, at: runSize, group: group++ });
      runSize += 1;
      continue;
    }
    const size = FIXED_SIZE[field.type];
    if (size !== undefined) {
      run.push({ kind: 'number', field, at: runSize });
      runSize += size;
      continue;
    }
    flush();
    steps.push({ kind: 'variable', field });
  }
  flush();
  return steps;
}

const at = (offset: number): string => (offset === 0 ? 'p' : `p + ${offset}`);

function readNumber(type: WireType, where: string): string {
  switch (type) {
    case 'octet': return `buf[${where}]!`;
    case 'short': return `buf.readUInt16BE(${where})`;
    case 'long': return `buf.readUInt32BE(${where})`;
    case 'longlong': case 'timestamp': return `readLonglong(buf, ${where})`;
    default: throw new Error(`not a fixed-width number: ${type}`);
  }
}

/** Statements that read one step into locals, advancing p. Shared with the properties emitter. */
export function readStep(step: Step, what: string, indent: string, assign: (f: FieldModel) => string): string[] {
  if (step.kind === 'fixed') {
    const lines = [`${indent}if (end - p < ${step.size}) throw truncated(${str(what)});`];
    for (const item of step.items) {
      if (item.kind === 'number') {
        lines.push(`${indent}${assign(item.field)} = ${readNumber(item.field.type, at(item.at))};`);
      } else {
        lines.push(`${indent}const bits${item.group} = buf[${at(item.at)}]!;`);
        item.fields.forEach((f, bit) => lines.push(`${indent}${assign(f)} = (bits${item.group} & ${1 << bit}) !== 0;`));
      }
    }
    lines.push(`${indent}p += ${step.size};`);
    return lines;
  }
  const f = step.field;
  switch (f.type) {
    case 'shortstr':
      return [
        `${indent}q = shortstrEnd(buf, p, end, ${str(what)});`,
        `${indent}${assign(f)} = buf.toString('utf8', p + 1, q);`,
        `${indent}p = q;`,
      ];
    case 'longstr':
      return [
        `${indent}q = longstrEnd(buf, p, end, ${str(what)});`,
        `${indent}${assign(f)} = copyBytes(buf, p + 4, q);`,
        `${indent}p = q;`,
      ];
    case 'table':
      return [
        `${indent}q = longstrEnd(buf, p, end, ${str(what)});`,
        `${indent}${assign(f)} = readFieldTable(buf, p, q);`,
        `${indent}p = q;`,
      ];
    default:
      throw new Error(`no reader for ${f.type}`);
  }
}

/** Statement writing one non-bit field from `value`, advancing p. Shared with the properties emitter. */
export function writeField(f: FieldModel, value: string, what: string): string {
  switch (f.type) {
    case 'octet': return `p = buf.writeUInt8(${value}, p);`;
    case 'short': return `p = buf.writeUInt16BE(${value}, p);`;
    case 'long': return `p = buf.writeUInt32BE(${value}, p);`;
    case 'longlong': case 'timestamp': return `p = writeLonglong(buf, p, ${value}, ${str(what)});`;
    case 'shortstr': return `p = writeShortstr(buf, p, ${value}, ${str(what)});`;
    case 'longstr': return `p = writeLongstr(buf, p, ${value});`;
    case 'table': return `p = writeFieldTable(buf, p, ${value});`;
    case 'bit': throw new Error('bits are written per octet');
  }
}

/** Bytes a field adds beyond its fixed part (length prefixes count as fixed), as an expression. */
export function variableSize(f: FieldModel, value: string): string | undefined {
  switch (f.type) {
    case 'shortstr': return `Buffer.byteLength(${value})`;
    case 'longstr': return `${value}.length`;
    case 'table': return `fieldTableSize(${value})`;
    default: return undefined;
  }
}

/** Fixed bytes of a field: its width, or its length prefix (tables count theirs in fieldTableSize). */
export function fixedSize(f: FieldModel): number {
  if (f.type === 'shortstr') return 1;
  if (f.type === 'longstr') return 4;
  if (f.type === 'table' || f.type === 'bit') return 0;
  return FIXED_SIZE[f.type] ?? 0;
}

/** Octets taken by packed bits. */
export function bitOctets(fields: readonly FieldModel[]): number {
  return layout(fields).reduce((n, s) => n + (s.kind === 'fixed' ? s.items.filter((i) => i.kind === 'bits').length : 0), 0);
}

function typeName(m: MethodModel): string {
  return methodTypeName(m.className, m.name);
}

function fieldDoc(f: FieldModel): string | undefined {
  const parts = [f.reserved ? 'Reserved: peers send the default and ignore it.' : undefined, f.doc].filter((s) => s !== undefined);
  return parts.length > 0 ? parts.join(' ') : undefined;
}

function methodDoc(m: MethodModel): string {
  const facts = [
    `${dottedName(m.className, m.name)} (${m.classId}/${m.index})`,
    m.content ? 'carries content' : undefined,
    m.replies.length > 0 ? `answered by ${m.replies.map((r) => dottedName(r.className, r.name)).join(' or ')}` : undefined,
  ].filter((s) => s !== undefined);
  return `${facts.join('; ')}.${m.doc === undefined ? '' : ` ${m.doc}`}`;
}

function emitTypes(m: MethodModel): string[] {
  const name = typeName(m);
  return [
    ...doc(methodDoc(m)),
    `export interface ${argsTypeName(name)} {`,
    ...m.fields.flatMap((f) => [...doc(fieldDoc(f), '  '), `  ${camel(f.name)}: ${TS_TYPE[f.type]};`]),
    '}',
    `export interface ${name} extends ${argsTypeName(name)} {`,
    `  readonly id: typeof MethodId.${name};`,
    '}',
  ];
}

function emitDecoder(m: MethodModel): string[] {
  const name = typeName(m);
  const what = dottedName(m.className, m.name);
  const steps = layout(m.fields);
  const body: string[] = [];
  if (steps.some((s) => s.kind === 'variable')) body.push('  let q: number;');
  for (const step of steps) body.push(...readStep(step, what, '  ', (f) => `const ${localName(f.name)}`));
  const props = m.fields.map((f) => (localName(f.name) === camel(f.name) ? camel(f.name) : `${camel(f.name)}: ${localName(f.name)}`));
  return [
    `export function ${decoderName(name)}(buf: Buffer, off: number, end: number): ${name} {`,
    '  let p = off;',
    ...body,
    `  if (p !== end) throw trailingBytes(${str(what)}, end - p);`,
    `  return { id: MethodId.${name}${props.map((s) => `, ${s}`).join('')} };`,
    '}',
  ];
}

function emitSizer(m: MethodModel, overhead: number): string[] {
  const name = typeName(m);
  const fixedFields = m.fields.reduce((n, f) => n + fixedSize(f), 0) + bitOctets(m.fields);
  const terms = m.fields.map((f) => variableSize(f, `a.${camel(f.name)}`)).filter((t) => t !== undefined);
  const param = terms.length > 0 ? 'a' : '_a';
  return [
    `export function ${sizerName(name)}(${param}: ${argsTypeName(name)}): number {`,
    `  // frame header, class/method id and frame-end: ${overhead}; fixed fields and length prefixes: ${fixedFields}`,
    `  return ${[String(overhead + fixedFields), ...terms].join(' + ')};`,
    '}',
  ];
}

function emitEncoder(m: MethodModel): string[] {
  const name = typeName(m);
  const what = dottedName(m.className, m.name);
  const signature = (param: string): string => `export function ${encoderName(name)}(buf: Buffer, off: number, channel: number, ${param}: ${argsTypeName(name)}): number {`;
  if (m.fields.length === 0) {
    return [signature('_a'), `  return endFrame(buf, off, writeMethodHeader(buf, off, channel, MethodId.${name}));`, '}'];
  }
  const body: string[] = [];
  for (const step of layout(m.fields)) {
    const items: readonly (FixedItem | { kind: 'variable'; field: FieldModel })[] = step.kind === 'fixed' ? step.items : [step];
    for (const item of items) {
      if (item.kind === 'bits') {
        const octet = item.fields.map((f, bit) => `(a.${camel(f.name)} ? ${1 << bit} : 0)`).join(' | ');
        body.push(`  buf[p++] = ${octet};`);
      } else {
        body.push(`  ${writeField(item.field, `a.${camel(item.field.name)}`, `${what} ${item.field.name}`)}`);
      }
    }
  }
  return [
    signature('a'),
    `  let p = writeMethodHeader(buf, off, channel, MethodId.${name});`,
    ...body,
    '  return endFrame(buf, off, p);',
    '}',
  ];
}

function emitDispatch(model: ProtocolModel): string[] {
  const names = model.methods.map(typeName);
  const cases = (call: (n: string) => string): string[] => names.map((n) => `    case MethodId.${n}: return ${call(n)};`);
  const requests = model.methods.filter((m) => m.replies.length > 0);
  const switchTrue = (fn: string, param: string, ms: readonly MethodModel[], comment: string): string[] => [
    `/** ${comment} */`,
    `export function ${fn}(${param}: number): boolean {`,
    `  switch (${param}) {`,
    ...ms.map((m) => `    case MethodId.${typeName(m)}:`),
    '      return true;',
    '    default:',
    '      return false;',
    '  }',
    '}',
  ];
  return [
    'export type Method =',
    ...names.map((n, i) => `  | ${n}${i === names.length - 1 ? ';' : ''}`),
    '',
    '/**',
    ' * Decodes a method frame payload (class id, method id, arguments) between off and end. Returns',
    ' * undefined for an unknown id: the caller decides the reply code. Malformed arguments throw frameError.',
    ' */',
    'export function decodeMethod(payload: Buffer, off: number, end: number): Method | undefined {',
    '  if (end - off < 4) throw frameError(`cannot decode method: payload of ${end - off} byte(s) has no class and method id`);',
    '  switch (payload.readUInt32BE(off)) {',
    ...cases((n) => `${decoderName(n)}(payload, off + 4, end)`),
    '    default: return undefined;',
    '  }',
    '}',
    '',
    '/** Exact size of the whole method frame, header and frame-end included. */',
    'export function methodFrameSize(m: Method): number {',
    '  switch (m.id) {',
    ...cases((n) => `${sizerName(n)}(m)`),
    '    default: return notAMethod(m);',
    '  }',
    '}',
    '',
    '/** Writes the whole method frame at off (the caller sized buf with methodFrameSize); returns the new offset. */',
    'export function encodeMethod(buf: Buffer, off: number, channel: number, m: Method): number {',
    '  switch (m.id) {',
    ...cases((n) => `${encoderName(n)}(buf, off, channel, m)`),
    '    default: return notAMethod(m);',
    '  }',
    '}',
    '',
    '/** The method frame in a buffer of its own, for the rare and the convenient paths. */',
    'export function encodeMethodFrame(channel: number, m: Method): Buffer {',
    '  const buf = Buffer.allocUnsafe(methodFrameSize(m));',
    '  encodeMethod(buf, 0, channel, m);',
    '  return buf;',
    '}',
    '',
    'function notAMethod(m: never): never {',
    '  throw new TypeError(`not a method: id ${String((m as { id?: unknown }).id)}`);',
    '}',
    '',
    'export const METHOD_NAMES: { readonly [id: number]: string } = Object.freeze({',
    ...model.methods.map((m) => `  [MethodId.${typeName(m)}]: ${str(dottedName(m.className, m.name))},`),
    '});',
    '',
    'export function methodName(id: number): string {',
    '  return METHOD_NAMES[id] ?? `unknown method ${id >>> 16}/${id & 0xffff}`;',
    '}',
    '',
    ...switchTrue('hasContent', 'id', model.methods.filter((m) => m.content), 'True for methods followed by a content header and body frames.'),
    '',
    ...switchTrue('isSynchronous', 'id', model.methods.filter((m) => m.synchronous), "The spec's synchronous attribute: requests that await a reply, and those replies."),
    '',
    '/** True when the peer must answer m: a synchronous request sent without nowait. */',
    'export function expectsReply(m: Method): boolean {',
    '  switch (m.id) {',
    ...requests.filter((m) => m.nowait !== undefined).map((m) => `    case MethodId.${typeName(m)}: return !m.${camel(m.nowait!.name)};`),
    ...requests.filter((m) => m.nowait === undefined).map((m) => `    case MethodId.${typeName(m)}:`),
    '      return true;',
    '    default:',
    '      return false;',
    '  }',
    '}',
    '',
    '/** Synchronous request → the methods that may answer it. */',
    'export const REPLIES: { readonly [id: number]: readonly number[] } = Object.freeze({',
    ...requests.map((m) => `  [MethodId.${typeName(m)}]: Object.freeze([${m.replies.map((r) => `MethodId.${typeName(r)}`).join(', ')}]),`),
    '});',
  ];
}

export function emitMethods(model: ProtocolModel): string {
  const overhead = frameConstant(model, 'frame-header-size') + 4 + 1;
  const types = new Set(model.methods.flatMap((m) => m.fields.map((f) => f.type)));
  const wire = ['endFrame', 'trailingBytes', 'truncated', 'writeMethodHeader'];
  if (types.has('shortstr')) wire.push('shortstrEnd', 'writeShortstr');
  if (types.has('longstr')) wire.push('copyBytes', 'writeLongstr');
  if (types.has('longstr') || types.has('table')) wire.push('longstrEnd');
  if (types.has('longlong') || types.has('timestamp')) wire.push('readLonglong', 'writeLonglong');
  return file([
    '/**',
    ' * Every AMQP method as a typed value, with straight-line codecs. Each decodeX reads the arguments',
    ' * (between off and end, class/method id already consumed) into one object literal in declared order;',
    ' * each encodeX writes the whole method frame; each sizeX returns that frame\'s exact size.',
    ' * Types: bit → boolean; octet/short/long → number; longlong/timestamp → number (exact up to 2^53);',
    ' * shortstr → string (UTF-8, at most 255 bytes); longstr → Buffer (opaque bytes); table → FieldTable.',
    ' */',
    "import { frameError } from '../../errors.js';",
    ...(types.has('table') ? [
      "import type { FieldTable } from '../../types/field-table.js';",
      "import { fieldTableSize, readFieldTable, writeFieldTable } from '../field-table.js';",
    ] : []),
    `import { ${wire.sort().join(', ')} } from './wire.js';`,
    '',
    '/** (classId << 16) | methodId, the key every dispatch switches on. */',
    'export const MethodId = {',
    ...model.methods.map((m) => `  ${typeName(m)}: ${hex32(m.id)},`),
    '} as const;',
    'export type MethodId = (typeof MethodId)[keyof typeof MethodId];',
    '',
    ...model.methods.flatMap((m) => [
      ...emitTypes(m),
      '',
      ...emitDecoder(m),
      '',
      ...emitSizer(m, overhead),
      '',
      ...emitEncoder(m),
      '',
    ]),
    ...emitDispatch(model),
  ]);
}
