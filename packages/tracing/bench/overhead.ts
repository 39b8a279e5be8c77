// Throughput cost of tracing for a small Express route: alternating runs of the same server with
// tracing off and on (order flipped every round to cancel drift), each in a fresh process, loaded
// from this process with keep-alive connections. Usage: node --import tsx bench/overhead.ts [rounds] [seconds]
import { spawn } from 'node:child_process';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const rounds = Number(process.argv[2] ?? 4);
const seconds = Number(process.argv[3] ?? 5);
const concurrency = 32;
const dir = fileURLToPath(new URL('..', import.meta.url));

let exported = 0;
const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    exported++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const otlpUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

async function load(port: number, ms: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let done = 0;
  const until = Date.now() + ms;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/hello', agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        await one();
        done++;
      }
    }),
  );
  agent.destroy();
  return done / (ms / 1000);
}

async function run(mode: 'on' | 'off'): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/overhead-server.ts', mode], {
    cwd: dir,
    env: { ...process.env, BENCH_OTLP_URL: otlpUrl, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve) =>
    child.stdout.once('data', (d) => resolve(Number(String(d)))),
  );
  await load(port, 1000); // warm-up (JIT, connections)
  const rps = await load(port, seconds * 1000);
  child.kill('SIGKILL');
  return rps;
}

const results = { off: [] as number[], on: [] as number[] };
for (let i = 0; i < rounds; i++) {
  const order: Array<'on' | 'off'> = i % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
  for (const mode of order) {
    const rps = await run(mode);
    results[mode].push(rps);
    console.log(`round ${i + 1} ${mode.padEnd(3)} ${rps.toFixed(0)} req/s`);
  }
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const off = median(results.off);
const on = median(results.on);
console.log(
  JSON.stringify({
    rounds,
    seconds,
    concurrency,
    medianOff: Math.round(off),
    medianOn: Math.round(on),
    ratio: +(on / off).toFixed(3),
    otlpRequests: exported,
  }),
);
receiver.close();
