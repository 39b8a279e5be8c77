import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { AbWindow } from './server/ab.js';
import type { FromChild, ToChild } from './server.js';
import { REQUESTS, ROUTE_TEMPLATES } from './traffic.js';
import type { Framework, VariantInfo } from './variants.js';

export const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));
const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url));

export interface LoadOptions {
  connections: number;
  /** Seconds of load before measuring (JIT warm-up, caches, label children created). */
  warmup: number;
  /** Seconds of measured load. */
  duration: number;
  /** Write a V8 CPU profile of the server over the measured window to this file. */
  profileFile?: string;
}

/** One measured burst of one variant. */
export interface Sample {
  variant: string;
  /** Round: a fresh set of server processes. */
  round: number;
  /** Slice within the round: every variant gets one burst per slice, in rotating order. */
  slice: number;
  /** Completed requests per second over the measured window. */
  rps: number;
  /** Client-side p99 latency, ms. */
  p99: number;
  /** Server process CPU time (user + system) per completed request, microseconds. */
  cpuPerReq: number;
  /** Server CPU time / wall time over the measured window (1 = one core busy). */
  cpuUtil: number;
  requests: number;
  errors: number;
  /** Share of non-2xx responses (the 404 mix is 20%). */
  non2xxShare: number;
}

class Child {
  private readonly waiting = new Map<string, (msg: FromChild) => void>();
  readonly exited: Promise<number | null>;
  private failure: string | undefined;

  constructor(readonly proc: ChildProcess) {
    proc.on('message', (msg: FromChild) => {
      if (msg.type === 'error') this.failure = msg.message;
      const resolve =
        this.waiting.get(msg.type) ?? (msg.type === 'error' ? this.waiting.get('ready') : undefined);
      if (resolve) {
        this.waiting.delete(msg.type === 'error' ? 'ready' : msg.type);
        resolve(msg);
      }
    });
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
  }

  /** Waits for one message of a type, bounded in time. */
  wait<T extends FromChild['type']>(type: T, timeoutMs: number): Promise<Extract<FromChild, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(type);
        reject(new Error(this.failure ?? `server child sent no "${type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(this.failure ?? `server child exited (code ${code}) before "${type}"`));
      });
      this.waiting.set(type, (msg) => {
        clearTimeout(timer);
        if (msg.type === 'error') reject(new Error(msg.message));
        else resolve(msg as Extract<FromChild, { type: T }>);
      });
    });
  }

  ask<T extends FromChild['type']>(msg: ToChild & { type: T }, timeoutMs = 10_000) {
    const reply = this.wait(msg.type, timeoutMs);
    this.proc.send(msg);
    return reply;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    if (this.proc.connected) this.proc.send({ type: 'stop' } satisfies ToChild);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Starts a fresh server child for a variant (127.0.0.1, port 0) and waits for its port. */
async function startChild(arg: string, profileFile?: string): Promise<{ child: Child; port: number }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    TSX_TSCONFIG_PATH: `${BENCH_DIR}tsconfig.json`,
  };
  if (profileFile) env.BENCH_PROFILE = profileFile;
  const proc = fork(SERVER, [arg], {
    cwd: BENCH_DIR,
    // tsx runs the TypeScript sources of the workspace packages (tsconfig paths), so no build is needed.
    execArgv: ['--import', 'tsx'],
    env,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const child = new Child(proc);
  try {
    const { port } = await child.wait('ready', 60_000);
    return { child, port };
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
}

async function sanity(base: string): Promise<void> {
  const ok = await fetch(`${base}/api/bot/1`);
  const body = await ok.text();
  if (ok.status !== 200 || !body.includes('"ok":true')) {
    throw new Error(`GET /api/bot/1 answered ${ok.status} ${body.slice(0, 80)}`);
  }
  const missing = await fetch(`${base}/wp-login.php`);
  await missing.arrayBuffer();
  if (missing.status !== 404) throw new Error(`GET /wp-login.php answered ${missing.status}, expected 404`);
}

/** What is wrong with a variant's exposition after the run ('' when it looks right). */
function checkExposition(info: VariantInfo, text: string): string {
  if (info.kind === 'bare') return '';
  if (!/\S/.test(text)) return 'empty metrics exposition';
  if (info.kind === 'peer') return '';
  if (info.kind === 'tracing') {
    const spans = Number(/# bench: spans exported (\d+)/.exec(text)?.[1] ?? 0);
    if (spans === 0) return 'no spans exported';
    if (info.id.endsWith('+exemplars') && !/trace_id="[0-9a-f]{32}"/.test(text)) return 'no exemplar';
  }
  const missing = ROUTE_TEMPLATES.filter((t) => !text.includes(`route="${t}"`));
  if (missing.length > 0) return `no series for route ${missing.join(', ')}`;
  if (info.kind !== 'floor') {
    // every request feeds the whole HTTP catalog (OpenMetrics names the counter's sample *_total too)
    const names = [
      'http_requests_total',
      'http_request_duration_seconds_count',
      'http_request_size_bytes_count',
    ];
    const absent = [...names, 'http_response_size_bytes_count'].filter(
      (n) => !new RegExp(`^${n}\\{[^}]*route="/api/bot/:id"`, 'm').test(text),
    );
    if (absent.length > 0) return `no samples of ${absent.join(', ')}`;
  }
  if (/route="\/api\/bot\/\d/.test(text)) return 'raw URL used as route label';
  return '';
}

/** A running server child for one variant (fresh process, 127.0.0.1, port 0). */
export class VariantServer {
  private constructor(
    readonly info: VariantInfo,
    private readonly child: Child,
    readonly url: string,
  ) {}

  static async start(info: VariantInfo, profileFile?: string): Promise<VariantServer> {
    const { child, port } = await startChild(info.id, profileFile);
    const server = new VariantServer(info, child, `http://127.0.0.1:${port}`);
    try {
      await sanity(server.url);
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  private load(connections: number, duration: number) {
    return autocannon({ url: this.url, connections, duration, requests: REQUESTS, timeout: 10 });
  }

  /** Unmeasured load (JIT warm-up, label children and caches created). */
  async warm(connections: number, seconds: number): Promise<void> {
    if (seconds > 0) await this.load(connections, seconds);
  }

  /** One measured burst: autocannon for `seconds`, with the server's CPU time read before and after. */
  async burst(connections: number, seconds: number, round: number, slice: number): Promise<Sample> {
    const c0 = await this.child.ask({ type: 'cpu' });
    const t0 = performance.now();
    const result = await this.load(connections, seconds);
    const c1 = await this.child.ask({ type: 'cpu' });
    const wallUs = (performance.now() - t0) * 1000;
    const cpuUs = c1.user - c0.user + (c1.system - c0.system);
    const requests = result.requests.total;
    return {
      variant: this.info.id,
      round,
      slice,
      rps: requests / result.duration,
      p99: result.latency.p99,
      cpuPerReq: cpuUs / requests,
      cpuUtil: cpuUs / wallUs,
      requests,
      errors: result.errors + result.timeouts,
      non2xxShare: result.non2xx / Math.max(1, requests),
    };
  }

  /** '' when the variant's metrics look right after the load, otherwise what is wrong. */
  async check(): Promise<string> {
    const { text } = await this.child.ask({ type: 'inspect' });
    return checkExposition(this.info, text);
  }

  stop(): Promise<void> {
    return this.child.stop();
  }
}

/** One variant alone: fresh server, warm-up, one measured burst, check, stop (used by --profile). */
export async function measure(info: VariantInfo, load: LoadOptions): Promise<Sample & { check: string }> {
  const server = await VariantServer.start(info, load.profileFile);
  try {
    await server.warm(load.connections, load.warmup);
    const sample = await server.burst(load.connections, load.duration, 0, 0);
    return { ...sample, check: await server.check() };
  } finally {
    await server.stop();
  }
}

/** The same-process A/B server of one framework (see server/ab.ts). */
export class AbServer {
  private constructor(
    readonly framework: Framework,
    private readonly child: Child,
    readonly url: string,
  ) {}

  static async start(framework: Framework): Promise<AbServer> {
    const { child, port } = await startChild(`ab:${framework}`);
    const server = new AbServer(framework, child, `http://127.0.0.1:${port}`);
    try {
      await sanity(server.url);
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  /** Load for `seconds` while the modes cycle every `windowMs`; returns the windows. */
  async run(connections: number, seconds: number, windowMs: number): Promise<AbWindow[]> {
    await this.child.ask({ type: 'ab-start', windowMs });
    await autocannon({ url: this.url, connections, duration: seconds, requests: REQUESTS, timeout: 10 });
    const { windows } = await this.child.ask({ type: 'ab-stop' });
    return windows;
  }

  /** '' when the DEIA registry recorded the route templates. */
  async check(): Promise<string> {
    const { text } = await this.child.ask({ type: 'inspect' });
    return checkExposition(
      { id: `${this.framework}+deia`, framework: this.framework, kind: 'deia', title: '' },
      text,
    );
  }

  stop(): Promise<void> {
    return this.child.stop();
  }
}
