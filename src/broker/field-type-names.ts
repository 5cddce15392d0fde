/**
 * RabbitMQ's names for field types, as they appear in its error texts
 * (`... of type 'signedint' ...`, `{unacceptable_type,longstr}`), and its type classes used when it
 * compares arguments on redeclare (rabbit_misc:type_class: every integer type is one class).
 */
import type { FieldType, FieldValue } from '../types/field-table.js';

export const FIELD_TYPE_NAMES: Readonly<Record<FieldType, string>> = {
  t: 'bool', b: 'byte', B: 'unsignedbyte', s: 'short', u: 'unsignedshort', I: 'signedint', i: 'unsignedint',
  l: 'long', f: 'float', d: 'double', D: 'decimal', S: 'longstr', A: 'array', T: 'timestamp', F: 'table',
  V: 'void', x: 'binary',
};

export function isIntegerType(t: FieldType): boolean {
  return t === 'b' || t === 'B' || t === 's' || t === 'u' || t === 'I' || t === 'i' || t === 'l';
}

/** rabbit_misc:type_class/1. */
export function typeClass(t: FieldType): string {
  if (isIntegerType(t)) return 'int';
  if (t === 'f' || t === 'd') return 'float';
  return FIELD_TYPE_NAMES[t];
}

/**
 * How RabbitMQ prints an argument value in its error texts: binaries with ~s (the text itself), other
 * values with ~p, where a table is a list of `{<<"key">>,type,value}` and an array of `{type,value}`.
 */
export function formatFieldValue(v: FieldValue): string {
  return v.type === 'S' || v.type === 'x' ? v.value.toString('utf8') : erlangTerm(v);
}

function erlangTerm(v: FieldValue): string {
  switch (v.type) {
    case 'S': case 'x': return `<<"${v.value.toString('utf8')}">>`;
    case 'l': case 'T': return v.value.toString();
    case 'D': return `{${v.value.scale},${v.value.value}}`;
    case 'A': return `[${v.value.map((x) => `{${FIELD_TYPE_NAMES[x.type]},${erlangTerm(x)}}`).join(',')}]`;
    case 'F': return `[${[...v.value].map(([k, x]) => `{<<"${k}">>,${FIELD_TYPE_NAMES[x.type]},${erlangTerm(x)}}`).join(',')}]`;
    case 'V': return 'undefined';
    case 'f': case 'd': return Number.isInteger(v.value) ? v.value.toFixed(1) : String(v.value);
    default: return String(v.value);
  }
}
