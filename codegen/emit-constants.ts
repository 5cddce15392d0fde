/** Emits src/protocol/generated/constants.ts: frame types and sizes, reply codes, class ids. */
import type { ProtocolModel } from './model.js';
import { frameTypeKey, pascal, upperSnake } from './naming.js';
import { doc, file } from './source.js';

export function emitConstants(model: ProtocolModel): string {
  const { version } = model;
  const hard = model.replyCodes.filter((c) => c.severity === 'hard');
  return file([
    '/**',
    ` * AMQP ${version.major}-${version.minor}-${version.revision} constants: frame types and sizes, reply codes`,
    ' * with their soft/hard class, and class ids.',
    ' */',
    '',
    `export const PROTOCOL_VERSION = { major: ${version.major}, minor: ${version.minor}, revision: ${version.revision} } as const;`,
    `export const DEFAULT_PORT = ${model.port};`,
    '',
    '/** The type octet that starts every frame (spec 4.2.3). */',
    'export const FrameType = {',
    ...model.frameTypes.map((c) => `  ${frameTypeKey(c.name)}: ${c.value},`),
    '} as const;',
    'export type FrameType = (typeof FrameType)[keyof typeof FrameType];',
    '',
    ...model.frameConstants.flatMap((c) => [...doc(c.doc), `export const ${upperSnake(c.name)} = ${c.value};`]),
    '',
    '/** Reply codes for connection.close / channel.close / basic.return (spec 1.2). */',
    'export const ReplyCode = {',
    ...model.replyCodes.map((c) => `  ${pascal(c.name)}: ${c.value},`),
    '} as const;',
    'export type ReplyCode = (typeof ReplyCode)[keyof typeof ReplyCode];',
    '',
    "/** Reply-code names as RabbitMQ prints them in reply texts (`NOT_FOUND - no queue 'q' ...`). */",
    'export const REPLY_CODE_NAMES: { readonly [code: number]: string } = Object.freeze({',
    ...model.replyCodes.map((c) => `  ${c.value}: '${upperSnake(c.name)}',`),
    '});',
    '',
    '/** A hard error closes the whole connection; a soft one closes only the channel (spec 1.2). */',
    'export function isHardError(code: number): boolean {',
    '  switch (code) {',
    ...hard.map((c) => `    case ${c.value}: // ${upperSnake(c.name)}`),
    '      return true;',
    '    default:',
    '      return false;',
    '  }',
    '}',
    '',
    'export const ClassId = {',
    ...model.classes.map((c) => `  ${pascal(c.name)}: ${c.id},`),
    '} as const;',
    'export type ClassId = (typeof ClassId)[keyof typeof ClassId];',
  ]);
}
