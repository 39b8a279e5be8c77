// Instructions per request, a measure of the cost of tracing that does not depend on the load of the
// machine (CPU-time ratios on a shared 2-core host swing several-fold between identical runs). Each server
// variant (the same overhead-server.ts as overhead.ts: Express 5 / Fastify 5, off / deia / sdk-node) runs
// under valgrind's callgrind with V8's JIT on (no --jitless). The driver warms it up, flushes the spans
// made so far, switches the instrumentation on (callgrind_control -i on: nothing is counted before),
// sends exactly N requests, flushes again (so the window holds the OTLP export of exactly its own spans)
// and dumps the counters (callgrind_control -d): instructions in the window / N. V8 keeps optimizing
// (TurboFan, background threads) long after start: that part is reported apart and left out of the
// ratios. A major GC falls into a 1000-request window or not, so GC is reported apart too; "the rest" is
// what the requests themselves run (JIT code, builtins, V8 runtime, node's C++, libc).
// Usage: node --import tsx bench/instructions.ts [requests=2000] [frameworks=express,fastify] [modes=off,deia,sdk-node] [warmup=3000]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain .mjs helper without types
import { upstreamDir } from './upstream.mjs';

const requests = Number(process.argv[2] ?? 2000);
const frameworks = (process.argv[3] ?? 'express,fastify').split(',');
const modes = (process.argv[4] ?? 'off,deia,sdk-node').split(',');
const warmup = Number(process.argv[5] ?? 3000);
const concurrency = 8;
const dir = fileURLToPath(new URL('..', import.meta.url));
const upstream = modes.includes('sdk-node') ? (upstreamDir() as string) : '';
const out = mkdtempSync(join(tmpdir(), 'deia-callgrind-'));

let exportedBytes = 0;
const sink = createServer((req, res) => {
  req.on('data', (c: Buffer) => {
    exportedBytes += c.length;
  });
  req.on('end', () => {
    const proto = String(req.headers['content-type']).includes('protobuf');
    res.writeHead(200, { 'content-type': proto ? 'application/x-protobuf' : 'application/json' });
    res.end(proto ? '' : '{}');
  });
});
// The slowed-down server's exporter keeps its connection idle for longer than node's 5 s default.
sink.keepAliveTimeout = 600_000;
await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
const otlpUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;

/**
 * Exactly `count` answered requests over `concurrency` keep-alive connections. A request on a connection
 * the slowed-down server has just closed as idle (ECONNRESET before any answer) is sent again.
 */
async function load(port: number, count: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let n = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: `/hello/${n % 100}`, agent }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
        res.resume();
        res.on('end', resolve);
      });
      req.setTimeout(120_000, () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
      req.end();
    });
  const retried = async (attempt = 0): Promise<void> => {
    try {
      await one();
    } catch (err) {
      if ((err as { code?: string }).code !== 'ECONNRESET' || attempt >= 3) throw err;
      await retried(attempt + 1);
    }
  };
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (n < count) {
        n++;
        await retried();
      }
    }),
  );
  agent.destroy();
}

interface Count {
  total: number;
  /** V8's optimizing compiler (TurboFan, on background threads): JIT warm-up still going on. */
  compiler: number;
  /** V8's garbage collector (scavenges, concurrent marking, sweeping). */
  gc: number;
}

const COMPILER = /compiler::|Turbofan|Maglev|OptimizedCompilationJob|InstructionSelector|RegisterAllocat/;
const GC =
  /Marking|Sweep|Scaveng|Heap::|heap::|Evacuat|MemoryChunk|RememberedSet|SlotSet|ActiveSystemPages|MarkCompact|IncrementalMarking|BodyDescriptor|FreeList/;

/** The dump's total, and the parts spent in V8's compiler and GC (by function name, via callgrind_annotate). */
function counted(file: string): Count {
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('summary:') || l.startsWith('totals:'));
  if (!line) throw new Error(`no totals in ${file}`);
  const count: Count = { total: Number(line.split(/\s+/)[1]), compiler: 0, gc: 0 };
  const annotated = execFileSync('callgrind_annotate', ['--threshold=100', '--inclusive=no', file], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  for (const row of annotated.split('\n')) {
    const m = /^\s*([\d,]+) \([ \d.]+%\)\s+(.*)$/.exec(row);
    if (!m || row.includes('PROGRAM TOTALS')) continue;
    const n = Number((m[1] as string).replaceAll(',', ''));
    if (COMPILER.test(m[2] as string)) count.compiler += n;
    else if (GC.test(m[2] as string)) count.gc += n;
  }
  return count;
}

async function run(framework: string, mode: string): Promise<Count> {
  const base = join(out, `${framework}-${mode}`);
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      // No instrumentation (hence 5-10x faster) until the measured window: start-up and warm-up only JIT.
      '--instr-atstart=no',
      // V8 writes machine code into memory it later reuses: re-check code outside files for changes.
      '--smc-check=all-non-file',
      `--callgrind-out-file=${base}.out`,
      `--log-file=${base}.log`,
      process.execPath,
      '--import',
      'tsx',
      'bench/overhead-server.ts',
      framework,
      mode,
    ],
    {
      cwd: dir,
      env: { ...process.env, BENCH_OTLP_URL: otlpUrl, BENCH_UPSTREAM_DIR: upstream, NODE_ENV: 'production' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const exited = new Promise<never>((_, reject) =>
    child.on('exit', (code) => reject(new Error(`${framework} ${mode} exited (${code}); see ${base}.log`))),
  );
  const next = <T>(key: string, ms = 1_800_000) =>
    Promise.race([
      exited,
      new Promise<Record<string, T>>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${key}" from the server in ${ms} ms`)), ms);
        const on = (m: unknown) => {
          if (m !== null && typeof m === 'object' && key in m) {
            clearTimeout(timer);
            child.off('message', on);
            resolve(m as Record<string, T>);
          }
        };
        child.on('message', on);
      }),
    ]);
  const control = (flag: string) =>
    execFileSync('callgrind_control', [...flag.split(' '), String(child.pid)], {
      timeout: 120_000,
      stdio: 'ignore',
    });
  try {
    const t0 = Date.now();
    const step = (what: string) =>
      process.stderr.write(
        `  ${framework} ${mode}: ${what} after ${((Date.now() - t0) / 1000).toFixed(0)} s\n`,
      );
    const { port } = (await next<number>('port')) as Record<string, number>;
    step('listening');
    await load(port, warmup);
    step('warmed up');
    child.send('flush');
    await next('flushed');
    control('-i on');
    await load(port, requests);
    step('measured');
    child.send('flush');
    await next('flushed');
    control('-d');
    const name = `${framework}-${mode}.out.`;
    const dumps = readdirSync(out).filter((f) => f.startsWith(name));
    if (dumps.length !== 1)
      throw new Error(`expected one dump for ${framework} ${mode}, found ${dumps.length}`);
    const c = counted(join(out, dumps[0] as string));
    return { total: c.total / requests, compiler: c.compiler / requests, gc: c.gc / requests };
  } finally {
    child.kill('SIGKILL');
    exited.catch(() => undefined);
  }
}

const k = (n: number) => `${(n / 1000).toFixed(0)}k`;
/** What the requests themselves run: everything but the JIT compiler still warming up. */
const steady = (c: Count) => c.total - c.compiler;
const results = new Map<string, Count>();
for (const framework of frameworks) {
  for (const mode of modes) {
    const started = Date.now();
    const c = await run(framework, mode);
    results.set(`${framework} ${mode}`, c);
    console.log(
      `${framework} ${mode}: ${k(c.total)} instructions/request, of which compiler ${k(c.compiler)}, GC ${k(c.gc)} (${((Date.now() - started) / 1000).toFixed(0)} s)`,
    );
  }
}
console.log(
  `\n${requests} requests after ${warmup} warm-up, ${concurrency} keep-alive connections, node ${process.version}, callgrind, JIT on\n`,
);
console.log(
  '| app | tracing | instructions/request | V8 compiler | GC | the rest | the rest vs off | without the compiler, vs off |',
);
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const [key, c] of results) {
  const [framework, mode] = key.split(' ');
  const off = results.get(`${framework} off`);
  const rest = (x: Count) => x.total - x.compiler - x.gc;
  const vs = (f: (x: Count) => number) => (off ? `${(f(c) / f(off)).toFixed(2)}x` : '–');
  console.log(
    `| ${framework} | ${mode} | ${k(c.total)} | ${k(c.compiler)} | ${k(c.gc)} | ${k(rest(c))} | ${vs(rest)} | ${vs(steady)} |`,
  );
}
console.log(`\nOTLP sink received ${(exportedBytes / 1e6).toFixed(1)} MB`);
sink.close();
rmSync(out, { recursive: true, force: true });
