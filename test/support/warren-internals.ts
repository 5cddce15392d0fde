/**
 * Test-only access to a running Warren's connections. Server keeps its registry private (nothing in the
 * embedding API needs it); tests that force-close a client or inspect outbound buffering reach it here,
 * in one place, so a rename in src/server/server.ts breaks one helper rather than every test.
 */
import type { Connection } from '../../src/server/connection.js';
import type { Warren } from '../../src/warren.js';

export function serverConnections(warren: Warren): Connection[] {
  return [...(warren.server as unknown as { connections: Set<Connection> }).connections];
}

/** The server-side connection whose peer is the given local port of a client socket. */
export function connectionForClientPort(warren: Warren, clientPort: number): Connection | undefined {
  return serverConnections(warren).find((c) => c.socket.remotePort === clientPort);
}
