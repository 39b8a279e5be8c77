import type { ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';

/** A free TCP port on 127.0.0.1 (for Prometheus/Alertmanager, which need one on the command line). */
export const freePort = (): Promise<number> =>
  new Promise<number>((resolve, reject) => {
    const s = createNetServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

/** Stops a child process the test started (SIGTERM) and a loopback server, waiting for both. */
export async function stopAll(child: ChildProcess | undefined, server: Server | undefined): Promise<void> {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
}
