/** Peer addresses as the broker judges and logs them. */

/** `127.0.0.1:5000`, or `[::1]:5000`; v4-mapped addresses of a dual-stack listener shown as IPv4. */
export function formatPeer(address: string | undefined, port: number | undefined): string {
  const a = address?.startsWith('::ffff:') ? address.slice(7) : address ?? 'unknown';
  return a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`;
}

/** RabbitMQ's loopback_users: 127.0.0.0/8 and ::1, also as v4-mapped IPv6 (::ffff:127.x.x.x). */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
