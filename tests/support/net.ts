/** Small network helpers for tests, benchmarks and the chaos suite. */
import { createServer } from 'node:net';

/** A port nobody listens on right now (SIPp also takes port+2 for media). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
