// One lifecycle for both adapters: nothing listens and no signal handler is installed until the
// adapter knows the app's server (Express: attach(server); Fastify: ready). From then on the
// metricsPort server answers and, with `shutdown`, graceful shutdown is armed; without it, never.
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { deiaExpress } from '@deia/express';
import { deiaFastify } from '@deia/fastify';
import type { Shutdown } from '@deia/health';
import { createMetrics } from '@deia/metrics';
import { describe, expect, it } from 'vitest';

const fromExpress = createRequire(new URL('../../packages/express/package.json', import.meta.url));
const fromFastify = createRequire(new URL('../../packages/fastify/package.json', import.meta.url));

interface Lifecycle {
  metricsAddress(): AddressInfo | undefined;
  shutdown(): Shutdown | undefined;
  /** Makes the server known and listening, the framework's way; resolves with the app's URL. */
  start(): Promise<string>;
  close(): Promise<void>;
}

type Build = (options: Record<string, unknown>) => Promise<Lifecycle>;

const express =
  (name: string): Build =>
  async (options) => {
    const deia = deiaExpress(options as never);
    const app = fromExpress(name)();
    app.use(deia);
    app.get('/api', (_req: unknown, res: { json(b: unknown): void }) => res.json({ ok: true }));
    let server: Server | undefined;
    return {
      metricsAddress: () => deia.observer.metricsAddress(),
      shutdown: () => deia.shutdown,
      start: async () => {
        server = app.listen(0, '127.0.0.1') as Server;
        deia.attach(server);
        await new Promise<void>((resolve) => server?.once('listening', resolve));
        await deia.ready;
        return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      },
      close: async () => {
        deia.shutdown?.dispose();
        await deia.close();
        await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      },
    };
  };

const fastify =
  (name: string): Build =>
  async (options) => {
    const app = fromFastify(name)({ logger: false });
    await app.register(deiaFastify, options as never);
    app.get('/api', async () => ({ ok: true }));
    return {
      metricsAddress: () => app.deia.metricsAddress(),
      shutdown: () => app.deia.shutdown,
      start: async () => {
        await app.listen({ port: 0, host: '127.0.0.1' });
        return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      },
      close: () => app.close(),
    };
  };

const ADAPTERS: Array<[string, Build]> = [
  ['express4', express('express4')],
  ['express5', express('express')],
  ['fastify4', fastify('fastify4')],
  ['fastify5', fastify('fastify')],
];

describe.each(ADAPTERS)('lifecycle: %s', (_name, build) => {
  it('binds metricsPort and arms shutdown once the server is known, not before', async () => {
    const before = process.listenerCount('SIGUSR2');
    const app = await build({
      metrics: createMetrics({ groups: ['http'] }),
      metricsPort: 0,
      metricsHost: '127.0.0.1',
      shutdown: { signals: ['SIGUSR2'], exit: false, timeoutMs: 2000 },
    });
    try {
      expect(app.metricsAddress()).toBeUndefined();
      expect(app.shutdown()).toBeUndefined();
      expect(process.listenerCount('SIGUSR2')).toBe(before);

      const url = await app.start();
      const address = app.metricsAddress();
      expect(address?.port).toBeGreaterThan(0);
      expect(app.shutdown()).toBeDefined();
      expect(process.listenerCount('SIGUSR2')).toBe(before + 1);
      expect((await fetch(`${url}/api`)).status).toBe(200);
      const res = await fetch(`http://127.0.0.1:${address?.port}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/http_requests_total\{method="GET",route="\/api",status="200"\} 1/);
    } finally {
      await app.close();
    }
    expect(process.listenerCount('SIGUSR2')).toBe(before);
  });

  it('without shutdown, nothing is armed (also after start); shutdown: true arms the defaults', async () => {
    const off = await build({ metrics: createMetrics({ groups: ['http'] }) });
    try {
      await off.start();
      expect(off.shutdown()).toBeUndefined();
      expect(off.metricsAddress()).toBeUndefined();
    } finally {
      await off.close();
    }
    const sigterm = process.listenerCount('SIGTERM');
    const on = await build({ metrics: createMetrics({ groups: ['http'] }), shutdown: true });
    try {
      expect(on.shutdown()).toBeUndefined();
      await on.start();
      expect(on.shutdown()).toBeDefined();
      expect(process.listenerCount('SIGTERM')).toBe(sigterm + 1);
    } finally {
      await on.close();
    }
    expect(process.listenerCount('SIGTERM')).toBe(sigterm);
  });
});
