/** Server-generated names, shaped like RabbitMQ's (`amq.gen-` + 22 URL-safe base64 characters). */
import { randomBytes } from 'node:crypto';

export function generateName(prefix: string): string {
  return prefix + randomBytes(16).toString('base64url');
}
