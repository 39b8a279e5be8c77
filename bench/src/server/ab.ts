/**
 * Same-process A/B: one server with the floor and the DEIA adapter both installed behind a switch,
 * cycling bare -> floor -> deia every few hundred ms while the load runs, with the CPU time and
 * request count of every window. Adjacent windows share the host's conditions, so the per-cycle
 * CPU/request ratios resolve differences of a few percent that separate processes cannot on a
 * noisy machine. (Both code paths stay warm in one JIT, so node's own inline caches see both
 * shapes of the response object: a small, equal cost in every mode.)
 */
import type { AddressInfo } from 'node:net';
import type { Framework } from '../variants.js';
import type { Running } from './common.js';

export const AB_MODES = ['bare', 'floor', 'deia'] as const;
export type AbMode = (typeof AB_MODES)[number];

export interface AbWindow {
  cycle: number;
  mode: AbMode;
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

function cycler(gate: Gate) {
  let timer: NodeJS.Timeout | undefined;
  let windows: AbWindow[] = [];
  return {
    start(windowMs: number) {
      windows = [];
      let step = 0;
      let cpu = process.cpuUsage();
      let t = performance.now();
      const modeAt = (k: number) => {
        const cycle = Math.floor(k / 3);
        return (k + cycle) % 3; // rotate the order every cycle: no mode always follows the same one
      };
      gate.mode = modeAt(0);
      gate.counts.fill(0);
      timer = setInterval(() => {
        const now = performance.now();
        const c = process.cpuUsage();
        const mode = gate.mode;
        windows.push({
          cycle: Math.floor(step / 3),
          mode: AB_MODES[mode]!,
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

export async function startAb(framework: Framework): Promise<AbRunning> {
  const gate: Gate = { mode: 0, counts: [0, 0, 0] };
  if (framework === 'express') {
    const { addRoutes, deia, floor, loadExpress } = await import('./express.js');
    const express = loadExpress();
    const app = express();
    type Mw = Parameters<Parameters<typeof floor>[0]>[0];
    let floorMw: Mw | undefined;
    let deiaMw: Mw | undefined;
    floor((mw) => {
      floorMw = mw;
    });
    const inspect = await deia((mw) => {
      deiaMw = mw;
    });
    const f = floorMw!;
    const d = deiaMw!;
    app.use((req, res, next) => {
      const mode = gate.mode;
      gate.counts[mode]!++;
      if (mode === 1) f(req, res, next);
      else if (mode === 2) d(req, res, next);
      else next();
    });
    addRoutes(express, app);
    const port = await new Promise<number>((resolve, reject) => {
      const s = app.listen(0, '127.0.0.1', (err?: Error) =>
        err ? reject(err) : resolve((s.address() as AddressInfo).port),
      );
    });
    return { port, inspect, ...cycler(gate) };
  }

  const { default: Fastify } = await import('fastify');
  const { addRoutes, deia, floor } = await import('./fastify.js');
  const app = Fastify({ logger: false });
  app.addHook('onRequest', (_req, _reply, done) => {
    gate.counts[gate.mode]!++;
    done();
  });
  // Gate the hooks the floor and the plugin add: they run only in their own mode.
  type Hook = (req: unknown, reply: unknown, done: () => void) => void;
  const addHook = app.addHook.bind(app) as (name: string, hook: Hook) => unknown;
  const gated = (mode: number) =>
    ((name: string, hook: Hook) =>
      addHook(
        name,
        name === 'onRequest' || name === 'onResponse'
          ? (req, reply, done) => (gate.mode === mode ? hook(req, reply, done) : done())
          : hook,
      )) as unknown as typeof app.addHook;
  app.addHook = gated(1);
  floor(app);
  app.addHook = gated(2);
  const inspect = await deia(app);
  app.addHook = addHook as unknown as typeof app.addHook;
  await addRoutes(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { port: (app.server.address() as AddressInfo).port, inspect, ...cycler(gate) };
}
