/**
 * The one place where spec names (kebab-case, as in the AMQP XML and RabbitMQ's framing) become
 * TypeScript names. Every emitter asks here; none builds a name by itself.
 */

/** Spec names: lower-case words joined by single hyphens (`routing-key`, `update-secret-ok`). */
export const SPEC_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

function words(name: string): string[] {
  return name.split('-');
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** `routing-key` → `routingKey`; `nowait` stays `nowait` (RabbitMQ's spelling of no-wait). */
export function camel(name: string): string {
  const [first = '', ...rest] = words(name);
  return first + rest.map(capitalise).join('');
}

/** `update-secret-ok` → `UpdateSecretOk`. */
export function pascal(name: string): string {
  return words(name).map(capitalise).join('');
}

/** `frame-min-size` → `FRAME_MIN_SIZE` (constants, and reply-code names as RabbitMQ prints them). */
export function upperSnake(name: string): string {
  return words(name).join('_').toUpperCase();
}

/** (`basic`, `publish`) → `BasicPublish`: the method's interface name and MethodId key. */
export function methodTypeName(className: string, methodName: string): string {
  return pascal(className) + pascal(methodName);
}

/** (`basic`, `publish`) → `basic.publish`: how RabbitMQ names a method in logs and errors. */
export function dottedName(className: string, methodName: string): string {
  return `${className}.${methodName}`;
}

/** `basic` → `BasicProperties`: the content-header property set of a class. */
export function propertiesTypeName(className: string): string {
  return `${pascal(className)}Properties`;
}

/** `frame-heartbeat` → `Heartbeat`: key in the FrameType object. */
export function frameTypeKey(constantName: string): string {
  return pascal(constantName.replace(/^frame-/, ''));
}

/**
 * Names the generated functions use for their own variables, plus words that cannot name a local
 * in strict-mode code. A field whose camelCase name is one of these gets a trailing underscore
 * as its local variable (its property name is unchanged).
 */
const TAKEN_LOCALS = new Set([
  'arguments', 'eval', 'buf', 'off', 'end', 'p', 'q', 'a', 'm', 'props', 'channel', 'flags',
  // reserved words that are plausible field names
  'class', 'delete', 'default', 'function', 'new', 'return', 'switch', 'this', 'var', 'void', 'with',
  'in', 'do', 'if', 'for', 'case', 'const', 'let', 'enum', 'export', 'import', 'super', 'yield',
]);

/** Local variable holding a decoded field: the camelCase name unless that is taken. */
export function localName(fieldName: string): string {
  const c = camel(fieldName);
  return TAKEN_LOCALS.has(c) || /^(bits|flags)\d+$/.test(c) ? `${c}_` : c;
}

/** Functions generated per method: decodeBasicPublish, sizeBasicPublish, encodeBasicPublish. */
export const decoderName = (typeName: string): string => `decode${typeName}`;
export const sizerName = (typeName: string): string => `size${typeName}`;
export const encoderName = (typeName: string): string => `encode${typeName}`;
export const argsTypeName = (typeName: string): string => `${typeName}Args`;

/** Functions generated per property set: decodeBasicProperties, basicPropertiesSize, encodeBasicProperties(Buffer). */
export const propertiesDecoderName = (className: string): string => `decode${propertiesTypeName(className)}`;
export const propertiesSizerName = (className: string): string => `${camel(className)}PropertiesSize`;
export const propertiesEncoderName = (className: string): string => `encode${propertiesTypeName(className)}`;
export const propertiesBufferEncoderName = (className: string): string => `encode${propertiesTypeName(className)}Buffer`;
