/**
 * Emits src/protocol/generated/properties.ts: for each class with content (only basic in 0-9-1) the
 * property interface and its codec. A content header carries a 16-bit flags word, bit 15 for the first
 * property downwards, bit 0 meaning another flags word follows, then the present values in order
 * (AMQP 0-9-1 §4.2.6.1).
 */
import { FIXED_SIZE, type ClassModel, type FieldModel, type ProtocolModel } from './model.js';
import { fixedSize, readStep, TS_TYPE, variableSize, writeField } from './emit-methods.js';
import {
  camel, localName, propertiesBufferEncoderName, propertiesDecoderName, propertiesEncoderName,
  propertiesSizerName, propertiesTypeName,
} from './naming.js';
import { doc, file, hex16, str } from './source.js';

/** Flag bit of the i-th property in the (single) flags word. */
const flagOf = (i: number): number => 1 << (15 - i);

function fieldDoc(f: FieldModel): string | undefined {
  return [f.reserved ? 'Reserved.' : undefined, f.doc].filter((s) => s !== undefined).join(' ') || undefined;
}

function emitClass(c: ClassModel): string[] {
  const type = propertiesTypeName(c.name);
  const what = `${c.name} properties`;
  const defined = c.properties.reduce((mask, _f, i) => mask | flagOf(i), 0);
  const unknown = 0xfffe & ~defined;
  const decode = c.properties.flatMap((f, i) => {
    const width = FIXED_SIZE[f.type];
    const step = width !== undefined
      ? { kind: 'fixed' as const, size: width, items: [{ kind: 'number' as const, field: f, at: 0 }] }
      : { kind: 'variable' as const, field: f };
    return [
      `  if ((flags & ${hex16(flagOf(i))}) !== 0) {`,
      ...readStep(step, what, '    ', (g) => localName(g.name)),
      '  }',
    ];
  });
  const needsQ = c.properties.some((f) => FIXED_SIZE[f.type] === undefined);
  const props = c.properties.map((f) => (localName(f.name) === camel(f.name) ? camel(f.name) : `${camel(f.name)}: ${localName(f.name)}`));
  return [
    `/** Content-header properties of class ${c.name} (${c.id}), in flag order; undefined means absent. */`,
    `export interface ${type} {`,
    ...c.properties.flatMap((f) => [...doc(fieldDoc(f), '  '), `  ${camel(f.name)}?: ${TS_TYPE[f.type]};`]),
    '}',
    '',
    '/**',
    ` * Decodes the flags word(s) and property values between off and end (the content header after its`,
    ' * class id, weight and body size). Every property is present in the result, undefined when its flag',
    ' * is clear, so all decoded objects share one shape.',
    ' */',
    `export function ${propertiesDecoderName(c.name)}(buf: Buffer, off: number, end: number): ${type} {`,
    '  let p = off;',
    ...(needsQ ? ['  let q: number;'] : []),
    ...c.properties.map((f) => `  let ${localName(f.name)}: ${TS_TYPE[f.type]} | undefined;`),
    `  if (end - p < 2) throw truncated(${str(what)});`,
    '  const flags = buf.readUInt16BE(p);',
    '  p += 2;',
    ...(unknown === 0 ? [] : [`  if ((flags & ${hex16(unknown)}) !== 0) throw unknownProperty(${str(what)}, flags);`]),
    `  if ((flags & 0x0001) !== 0) p = skipFlagWords(buf, p, end, ${str(what)});`,
    ...decode,
    `  if (p !== end) throw trailingBytes(${str(what)}, end - p);`,
    `  return { ${props.join(', ')} };`,
    '}',
    '',
    '/** Bytes of the flags word and the present values. */',
    `export function ${propertiesSizerName(c.name)}(props: ${type}): number {`,
    '  let n = 2;',
    ...c.properties.map((f) => {
      const value = `props.${camel(f.name)}`;
      const size = [fixedSize(f) > 0 ? String(fixedSize(f)) : undefined, variableSize(f, value)].filter((s) => s !== undefined).join(' + ');
      return `  if (${value} !== undefined) n += ${size};`;
    }),
    '  return n;',
    '}',
    '',
    '/** Writes the flags word and the present values at off; returns the new offset. */',
    `export function ${propertiesEncoderName(c.name)}(buf: Buffer, off: number, props: ${type}): number {`,
    '  let flags = 0;',
    '  let p = off + 2;',
    ...c.properties.flatMap((f, i) => [
      `  if (props.${camel(f.name)} !== undefined) {`,
      `    flags |= ${hex16(flagOf(i))};`,
      `    ${writeField(f, `props.${camel(f.name)}`, `${c.name} property ${f.name}`)}`,
      '  }',
    ]),
    '  buf.writeUInt16BE(flags, off);',
    '  return p;',
    '}',
    '',
    `export function ${propertiesBufferEncoderName(c.name)}(props: ${type}): Buffer {`,
    `  const buf = Buffer.allocUnsafe(${propertiesSizerName(c.name)}(props));`,
    `  ${propertiesEncoderName(c.name)}(buf, 0, props);`,
    '  return buf;',
    '}',
    '',
  ];
}

export function emitProperties(model: ProtocolModel): string {
  const classes = model.classes.filter((c) => c.properties.length > 0);
  const types = new Set(classes.flatMap((c) => c.properties.map((f) => f.type)));
  const wire = ['trailingBytes', 'truncated'];
  if (types.has('shortstr')) wire.push('shortstrEnd', 'writeShortstr');
  if (types.has('longstr')) wire.push('copyBytes', 'writeLongstr');
  if (types.has('longstr') || types.has('table')) wire.push('longstrEnd');
  if (types.has('longlong') || types.has('timestamp')) wire.push('readLonglong', 'writeLonglong');
  return file([
    '/** Content-header properties (AMQP 0-9-1 §4.2.6.1) with their codecs. */',
    "import { frameError, type AmqpError } from '../../errors.js';",
    ...(types.has('table') ? [
      "import type { FieldTable } from '../../types/field-table.js';",
      "import { fieldTableSize, readFieldTable, writeFieldTable } from '../field-table.js';",
    ] : []),
    `import { ${wire.sort().join(', ')} } from './wire.js';`,
    '',
    ...classes.flatMap(emitClass),
    '/** A set flag we cannot skip: its value would follow, with a type we do not know. */',
    'function unknownProperty(what: string, flags: number): AmqpError {',
    "  return frameError(`cannot decode ${what}: flags 0x${flags.toString(16).padStart(4, '0')} name an undefined property`);",
    '}',
    '',
    '/** Further flags words may only carry the continuation bit: no class defines more than 15 properties. */',
    'function skipFlagWords(buf: Buffer, p: number, end: number, what: string): number {',
    '  let flags: number;',
    '  do {',
    '    if (end - p < 2) throw truncated(what);',
    '    flags = buf.readUInt16BE(p);',
    '    p += 2;',
    '    if ((flags & 0xfffe) !== 0) throw unknownProperty(what, flags);',
    '  } while ((flags & 0x0001) !== 0);',
    '  return p;',
    '}',
  ]);
}
