// Where a server's CPU time goes with tracing on: runs one overhead-server.ts variant, warms it up for 2 s,
// loads it for some seconds with V8's CPU profiler on (inside the server, over that window only), and
// charges every sample to the first frame that is not node's own JS or a V8 builtin (so socket writes
// count for the framework that writes, attribute cleaning for the SDK that asks for it).
// Usage: node --import tsx bench/profile.ts <express|fastify> <mode, e.g. deia> [seconds=10]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain .mjs helper without types
import { upstreamDir } from './upstream.mjs';

const [framework = 'express', mode = 'deia', secs = '10'] = process.argv.slice(2);
const dir = fileURLToPath(new URL('..', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'deia-cpuprof-'));
const file = join(out, `${framework}-${mode}.cpuprofile`);

const sink = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
});
await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
const child = spawn(process.execPath, ['--import', 'tsx', 'bench/overhead-server.ts', framework, mode], {
  cwd: dir,
  env: {
    ...process.env,
    BENCH_OTLP_URL: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`,
    BENCH_UPSTREAM_DIR: mode === 'sdk-node' ? (upstreamDir() as string) : '',
    NODE_ENV: 'production',
    BENCH_PROFILE: file,
  },
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const next = (key: string) =>
  new Promise<Record<string, unknown>>((resolve) => {
    const on = (m: Record<string, unknown>) => {
      if (key in m) {
        child.off('message', on);
        resolve(m);
      }
    };
    child.on('message', on);
  });
const port = (await next('port')).port as number;
const agent = new Agent({ keepAlive: true, maxSockets: 16 });
let requests = 0;
let until = Date.now() + 2000;
const one = () =>
  new Promise<void>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: `/hello/${requests++ % 100}`, agent }, (res) => {
      res.resume();
      res.on('end', resolve);
    })
      .on('error', reject)
      .end();
  });
const drive = () =>
  Promise.all(
    Array.from({ length: 16 }, async () => {
      while (Date.now() < until) await one();
    }),
  );
await drive(); // warm-up
// The first export loads the OTLP exporter (lazily, see src/export.ts): not part of a request's cost.
child.send('flush');
await next('flushed');
child.send('profile-start');
await next('profiling');
requests = 0;
until = Date.now() + Number(secs) * 1000;
await drive();
child.send('profile-stop');
await next('profile');
child.kill('SIGKILL');
agent.destroy();
sink.close();

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
};

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const owner = (url: string) => {
  if (!url) return '(native)';
  const pkg = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1] as string;
  if (url.startsWith('node:')) return 'node';
  return url.replace(/.*\/packages\//, '');
};
const byOwner = new Map<string, number>();
const byFunction = new Map<string, number>();
const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  const leaf = byId.get(id) as Node;
  if (leaf.callFrame.functionName === '(idle)') return;
  const stack: Node[] = [];
  for (let c: number | undefined = id; c !== undefined; c = parent.get(c)) stack.push(byId.get(c) as Node);
  total += dt;
  const payer = stack.find((n) => !['node', '(native)'].includes(owner(n.callFrame.url)));
  const who = payer ? owner(payer.callFrame.url) : leaf.callFrame.functionName;
  add(byOwner, who, dt);
  if (payer && /opentelemetry|tracing\/dist/.test(who)) {
    add(
      byFunction,
      `${payer.callFrame.functionName || '(anonymous)'} ${who}:${payer.callFrame.lineNumber + 1}`,
      dt,
    );
  }
});
const perReq = total / requests;
const show = (m: Map<string, number>, limit: number) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(
      ([k, v]) =>
        `  ${((100 * v) / total).toFixed(1).padStart(5)}%  ${(v / requests).toFixed(1).padStart(6)} µs/req  ${k}`,
    )
    .join('\n');
const otel = [...byOwner]
  .filter(([k]) => /opentelemetry|tracing\/dist/.test(k))
  .reduce((a, [, v]) => a + v, 0);
console.log(`profile (open in Chrome DevTools): ${file}`);
console.log(
  `${framework} ${mode}: ${requests} requests, ${perReq.toFixed(1)} µs CPU/request with the profiler on; ` +
    `OpenTelemetry and @deia/tracing ${((100 * otel) / total).toFixed(1)}% = ${(otel / requests).toFixed(1)} µs/request`,
);
console.log(`by owner (node's JS and V8 builtins charged to their caller):\n${show(byOwner, 18)}`);
console.log(
  `OpenTelemetry / @deia/tracing functions (with the node work they call):\n${show(byFunction, 25)}`,
);
