/**
 * Same-process A/B: one server with the floor, the DEIA adapter and the peers all installed behind
 * a switch, cycling through the modes every few hundred ms while the load runs, with the CPU time
 * and request count of every window. Neighbouring windows share the host's conditions, so the
 * per-cycle CPU/request ratios resolve differences of a few percent that separate processes cannot
 * on a noisy machine. (All code paths stay warm in one JIT, so node's own inline caches see every
 * shape of the request/response objects: a small cost in every mode.)
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Framework } from '../variants.js';
import type { Running } from './common.js';

export const AB_MODES: Record<Framework, readonly string[]> = {
  express: ['bare', 'floor', 'deia', 'prom-bundle', 'promster'],
  fastify: ['bare', 'floor', 'deia', 'fastify-metrics', 'promster'],
};

export interface AbWindow {
  cycle: number;
  mode: string;
  cpuUs: number;
  requests: number;
  ms: number;
}

export interface AbRunning extends Running {
  /** Starts cycling the modes (order rotated every cycle); windows are recorded from now on. */
  start(windowMs: number): void;
  /** Stops cycling (back to bare) and returns the recorded windows. */
  stop(): AbWindow[];
}

type Gate = { mode: number; counts: number[] };

/**
 * Until the returned function is called, a 'request' listener prepended to `server` runs only
 * while the gate is in `mode` (the adapters' server listeners, like their middleware and hooks).
 */
function gateRequestListeners(server: Server, gate: Gate, mode: number): () => void {
  type RequestListener = (req: unknown, res: unknown) => void;
  const target = server as unknown as { prependListener(event: string, l: RequestListener): unknown };
  const prepend = target.prependListener.bind(target);
  target.prependListener = (event, listener) =>
    prepend(
      event,
      event === 'request'
        ? (req, res) => {
            if (gate.mode === mode) listener(req, res);
          }
        : listener,
    );
  return () => {
    target.prependListener = prepend;
  };
}

function cycler(gate: Gate, modes: readonly string[]) {
  const n = modes.length;
  let timer: NodeJS.Timeout | undefined;
  let windows: AbWindow[] = [];
  return {
    start(windowMs: number) {
      windows = [];
      let step = 0;
      let cpu = process.cpuUsage();
      let t = performance.now();
      // rotate the order every cycle: no mode always follows the same one
      const modeAt = (k: number) => (k + Math.floor(k / n)) % n;
      gate.mode = modeAt(0);
      gate.counts.fill(0);
      timer = setInterval(() => {
        const now = performance.now();
        const c = process.cpuUsage();
        const mode = gate.mode;
        windows.push({
          cycle: Math.floor(step / n),
          mode: modes[mode]!,
          cpuUs: c.user - cpu.user + (c.system - cpu.system),
          requests: gate.counts[mode]!,
          ms: now - t,
        });
        cpu = c;
        t = now;
        step++;
        gate.mode = modeAt(step);
        gate.counts.fill(0);
      }, windowMs);
    },
    stop() {
      clearInterval(timer);
      gate.mode = 0;
      return windows;
    },
  };
}

async function joinInspect(parts: Array<() => Promise<string>>): Promise<string> {
  return (await Promise.all(parts.map((p) => p()))).join('\n');
}

export async function startAb(framework: Framework): Promise<AbRunning> {
  const modes = AB_MODES[framework];
  const gate: Gate = { mode: 0, counts: modes.map(() => 0) };
  if (framework === 'express') {
    const { addRoutes, deia, floor, loadExpress, promBundle, promster } = await import('./express.js');
    const express = loadExpress();
    const app = express();
    type Mw = Parameters<Parameters<typeof floor>[0]>[0];
    const mws: Array<Mw | undefined> = [undefined];
    const into = (mw: Mw) => {
      mws.push(mw);
    };
    floor(into);
    const inspectDeia = await deia(into);
    await promBundle(into);
    await promster(into);
    app.use((req, res, next) => {
      const mode = gate.mode;
      gate.counts[mode]!++;
      const mw = mws[mode];
      if (mw === undefined) next();
      else mw(req, res, next);
    });
    addRoutes(express, app);
    const server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
    });
    // deia.attach(server) adds a server 'request' listener (measuring starts there): gate it to the
    // deia mode like the middleware, else every mode would pay for it
    const ungate = gateRequestListeners(server, gate, 2);
    inspectDeia.attach(server);
    ungate();
    const port = (server.address() as AddressInfo).port;
    return { port, inspect: () => joinInspect([inspectDeia]), ...cycler(gate, modes) };
  }

  const { default: Fastify } = await import('fastify');
  const { addRoutes, deia, fastifyMetrics, floor, promster } = await import('./fastify.js');
  const app = Fastify({ logger: false });
  app.addHook('onRequest', (_req, _reply, done) => {
    gate.counts[gate.mode]!++;
    done();
  });
  // Gate the per-request hooks each instrumentation adds: they run only in their own mode.
  type Hook = (req: unknown, reply: unknown, done?: () => void) => unknown;
  const addHook = app.addHook.bind(app) as (name: string, hook: Hook) => unknown;
  const gated = (mode: number) =>
    ((name: string, hook: Hook) => {
      if (name !== 'onRequest' && name !== 'onResponse') return addHook(name, hook);
      // async hooks (arity 2) stay async, callback hooks stay callback: fastify runs each its own way
      const wrapped: Hook =
        hook.length < 3
          ? async (req, reply) => {
              if (gate.mode === mode) await hook(req, reply);
            }
          : (req, reply, done) => (gate.mode === mode ? hook(req, reply, done) : done?.());
      return addHook(name, wrapped);
    }) as unknown as typeof app.addHook;
  app.addHook = gated(1);
  floor(app);
  app.addHook = gated(2);
  const inspectDeia = await deia(app);
  app.addHook = gated(3);
  await fastifyMetrics(app, '/metrics-fastify-metrics');
  app.addHook = gated(4);
  await promster(app);
  app.addHook = addHook as unknown as typeof app.addHook;
  // @deia/fastify also starts measuring on the server's 'request' event (added at onReady): gate
  // that listener to the deia mode like its hooks.
  const ungate = gateRequestListeners(app.server, gate, 2);
  await addRoutes(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  ungate();
  return {
    port: (app.server.address() as AddressInfo).port,
    inspect: () => joinInspect([inspectDeia]),
    ...cycler(gate, modes),
  };
}
