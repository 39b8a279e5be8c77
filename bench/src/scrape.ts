/**
 * Scrape cost against the hand-written floor, side by side in one run:
 * `pnpm --filter @deia/bench bench:scrape [--sets=100,1000,10000,100000] [--frameworks=express,fastify]
 * [--rounds=N] [--eld-sets=10000] [--quick]`.
 *
 * Each (framework, label sets) pair runs two child processes (scrape-child.ts): the README's
 * configuration (`createMetrics({ defaultLabels })` + the adapter, series recorded from real
 * requests) and "floor4" (hand-written prom-client: the same four HTTP families and buckets,
 * default metrics, the same negotiation and gzip). Per scrape, the child's own CPU time (user +
 * system, gzip's thread-pool work included) is read before and after; scrapes are paired (deia,
 * floor; the order alternates) for each of the four Accept/encoding combinations, and every pair
 * gives a ratio. Reported: median and IQR of the ratios and of the CPU ms, growth, heap per label
 * set (what the sets beyond a 100-set child of the same kind add) before and after scraping, and the event-loop delay
 * of each child (and the latency of requests to /ping) while the runner scrapes back to back.
 *
 * `--quick` (run by `pnpm test`): 1,000 sets, both frameworks, all four combinations, 5 pairs each;
 * exits 1 when a median ratio is above 1.5 (a regression, not noise: the bar is 1.0).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import type { Framework, FromChild, Kind, ToChild } from './scrape-child.js';
import { quantile, type Spread, spread } from './stats.js';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const quick = process.argv.includes('--quick');
const SETS = (arg('sets') ?? (quick ? '1000' : '100,1000,10000,100000'))
  .split(',')
  .filter(Boolean)
  .map(Number);
const FRAMEWORKS = (arg('frameworks') ?? 'express,fastify').split(',').filter(Boolean) as Framework[];
const CLUSTER_SETS = (arg('cluster-sets') ?? (quick ? '' : '1000,10000'))
  .split(',')
  .filter(Boolean)
  .map(Number);
const ELD_SETS = Number(arg('eld-sets') ?? (quick ? 0 : 10_000));
const BASE_SETS = 100;
const QUICK_LIMIT = Number(arg('limit') ?? 1.5);
const roundsFor = (sets: number) =>
  Number(arg('rounds') ?? (quick ? 5 : sets <= 1000 ? 15 : sets <= 10_000 ? 7 : 2));

const OM = 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5';
const COMBOS = [
  { name: 'text', accept: 'text/plain;version=0.0.4', encoding: 'identity' },
  { name: 'OpenMetrics', accept: OM, encoding: 'identity' },
  { name: 'text + gzip', accept: 'text/plain;version=0.0.4', encoding: 'gzip' },
  { name: 'OpenMetrics + gzip', accept: OM, encoding: 'gzip' },
] as const;

interface Child {
  port: number;
  heapEmpty: number;
  heapFilled: number;
  ask<T extends FromChild['type']>(m: ToChild, reply: T): Promise<Extract<FromChild, { type: T }>>;
  post(m: ToChild): void;
  stop(): void;
}

async function start(framework: Framework | 'cluster', kind: Kind, sets: number): Promise<Child> {
  const file = framework === 'cluster' ? './scrape-cluster-child.ts' : './scrape-child.ts';
  const args = framework === 'cluster' ? [kind, String(sets)] : [framework, kind, String(sets)];
  const child: ChildProcess = fork(new URL(file, import.meta.url).pathname, args, {
    execArgv: ['--import', 'tsx', '--expose-gc', '--max-old-space-size=4096'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T extends FromChild['type']>(type: T) =>
    new Promise<Extract<FromChild, { type: T }>>((resolve, reject) => {
      const exit = (code: number | null) => reject(new Error(`${kind} ${framework} child exited (${code})`));
      const on = (m: FromChild) => {
        if (m.type === 'error') reject(new Error(m.message));
        else if (m.type === type) resolve(m as Extract<FromChild, { type: T }>);
        else return;
        child.off('message', on);
        child.off('exit', exit);
      };
      child.on('message', on);
      child.once('exit', exit);
    });
  const ready = await next('ready');
  return {
    port: ready.port,
    heapEmpty: ready.heapEmpty,
    heapFilled: ready.heapFilled,
    ask: (m, reply) => {
      const p = next(reply);
      child.send(m);
      return p;
    },
    post: (m) => child.send(m),
    stop: () => {
      try {
        child.send({ type: 'stop' } satisfies ToChild);
      } catch {
        // gone already
      }
      setTimeout(() => child.kill(), 2000).unref();
    },
  };
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });
function scrape(port: number, accept: string, encoding: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/metrics',
        agent,
        headers: { accept, 'accept-encoding': encoding },
        timeout: 120_000,
      },
      (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
        });
        res.on('end', () =>
          res.statusCode === 200 ? resolve(bytes) : reject(new Error(`/metrics ${res.statusCode}`)),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('scrape timed out')));
    req.on('error', reject).end();
  });
}

async function cpuOf(c: Child, run: () => Promise<number>): Promise<{ ms: number; bytes: number }> {
  const a = (await c.ask({ type: 'cpu' }, 'cpu')).ms;
  const bytes = await run();
  const b = (await c.ask({ type: 'cpu' }, 'cpu')).ms;
  return { ms: b - a, bytes };
}

interface ComboResult {
  combo: string;
  deia: Spread;
  floor: Spread;
  ratio: Spread;
  deiaBytes: number;
  floorBytes: number;
}

async function pairs(deia: Child, floor: Child, rounds: number): Promise<ComboResult[]> {
  const out: ComboResult[] = [];
  for (const combo of COMBOS) {
    const once = (c: Child) => cpuOf(c, () => scrape(c.port, combo.accept, combo.encoding));
    await once(deia);
    await once(floor);
    const d: number[] = [];
    const f: number[] = [];
    const r: number[] = [];
    let deiaBytes = 0;
    let floorBytes = 0;
    for (let i = 0; i < rounds; i++) {
      const first = i % 2 === 0 ? deia : floor;
      const a = await once(first);
      const b = await once(first === deia ? floor : deia);
      const [dd, ff] = first === deia ? [a, b] : [b, a];
      d.push(dd.ms);
      f.push(ff.ms);
      r.push(dd.ms / ff.ms);
      deiaBytes = dd.bytes;
      floorBytes = ff.bytes;
    }
    out.push({
      combo: combo.name,
      deia: spread(d),
      floor: spread(f),
      ratio: spread(r),
      deiaBytes,
      floorBytes,
    });
  }
  return out;
}

/** Event-loop delay of the child and latency of /ping while the runner scrapes it back to back. */
async function eventLoop(
  c: Child,
  ms: number,
  scraping: boolean,
): Promise<{ eld: number; ping: number; cpuP99: number; cpuMax: number; clock: string }> {
  let on = true;
  const loop = (async () => {
    while (on && scraping) await scrape(c.port, OM, 'gzip');
  })();
  const lat: number[] = [];
  c.post({ type: 'eld-start' });
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const t = performance.now();
    await new Promise<void>((resolve, reject) =>
      request({ host: '127.0.0.1', port: c.port, path: '/ping', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      })
        .on('error', reject)
        .end(),
    );
    lat.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 5));
  }
  on = false;
  await loop;
  const eld = await c.ask({ type: 'eld-stop' }, 'eld');
  return {
    eld: eld.p99,
    ping: quantile(lat, 0.99),
    cpuP99: eld.cpuP99,
    cpuMax: eld.cpuMax,
    clock: eld.cpuClock,
  };
}

const f2 = (n: number) => n.toFixed(2);
const ms = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
const iqr = (s: Spread, fmt = f2) => `${fmt(s.median)} (${fmt(s.q1)}-${fmt(s.q3)})`;
const kb = (b: number) => (b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MB` : `${(b / 1024).toFixed(0)} KB`);

async function main(): Promise<void> {
  const failures: string[] = [];
  const cpuRows: string[] = [];
  const clusterRows: string[] = [];
  // each row as soon as it is measured (stderr), the tables at the end (stdout)
  const progress = (rows: string[], row: string) => {
    console.error(row);
    rows.push(row);
  };
  const heapRows: string[] = [];
  const eldRows: string[] = [];
  const growth = new Map<string, Map<number, number>>();
  for (const framework of FRAMEWORKS) {
    // baselines: the same apps with BASE_SETS label sets (their code paths warmed up like the
    // measured ones'): heap per set is the heap the sets beyond them add, per set
    const [d0, f0] = await Promise.all([
      start(framework, 'deia', BASE_SETS),
      start(framework, 'floor', BASE_SETS),
    ]);
    for (const c of [d0, f0]) for (const combo of COMBOS) await scrape(c.port, combo.accept, combo.encoding);
    const base = {
      deia: { filled: d0.heapFilled, scraped: (await d0.ask({ type: 'heap' }, 'heap')).bytes },
      floor: { filled: f0.heapFilled, scraped: (await f0.ask({ type: 'heap' }, 'heap')).bytes },
    };
    d0.stop();
    f0.stop();
    for (const sets of SETS) {
      const deia = await start(framework, 'deia', sets);
      const floor = await start(framework, 'floor', sets);
      try {
        const results = await pairs(deia, floor, roundsFor(sets));
        for (const r of results) {
          progress(
            cpuRows,
            `| ${framework} | ${sets.toLocaleString('en')} | ${r.combo} | ${iqr(r.deia, ms)} | ${iqr(r.floor, ms)} | **${iqr(r.ratio)}** | ${kb(r.deiaBytes)} / ${kb(r.floorBytes)} |`,
          );
          if (r.ratio.median > QUICK_LIMIT)
            failures.push(`${framework} ${sets} sets ${r.combo}: ${f2(r.ratio.median)}x`);
          const g = growth.get(`${framework} ${r.combo}`) ?? new Map<number, number>();
          g.set(sets, r.deia.median);
          growth.set(`${framework} ${r.combo}`, g);
        }
        const after = {
          deia: (await deia.ask({ type: 'heap' }, 'heap')).bytes,
          floor: (await floor.ask({ type: 'heap' }, 'heap')).bytes,
        };
        if (sets > BASE_SETS) {
          const per = (v: number, b: number) => (v - b) / (sets - BASE_SETS);
          const dB = per(deia.heapFilled, base.deia.filled);
          const fB = per(floor.heapFilled, base.floor.filled);
          const dA = per(after.deia, base.deia.scraped);
          const fA = per(after.floor, base.floor.scraped);
          progress(
            heapRows,
            `| ${framework} | ${sets.toLocaleString('en')} | ${dB.toFixed(0)} / ${fB.toFixed(0)} (${f2(dB / fB)}x) | ${dA.toFixed(0)} / ${fA.toFixed(0)} (**${f2(dA / fA)}x**) |`,
          );
        }
        if (sets === ELD_SETS) {
          for (const [name, c] of [
            ['deia', deia],
            ['floor4', floor],
          ] as const) {
            const idle = await eventLoop(c, 3000, false);
            const busy = await eventLoop(c, 8000, true);
            progress(
              eldRows,
              `| ${framework} | ${name} | **${ms(busy.cpuP99)}** / ${ms(busy.cpuMax)} (${busy.clock}) | ${ms(idle.eld)} | ${ms(busy.eld)} | ${ms(busy.eld - idle.eld)} | ${ms(idle.ping)} | ${ms(busy.ping)} |`,
            );
          }
        }
      } finally {
        deia.stop();
        floor.stop();
      }
    }
  }
  for (const sets of CLUSTER_SETS) {
    const deia = await start('cluster', 'deia', sets);
    const floor = await start('cluster', 'floor', sets);
    try {
      for (const r of await pairs(deia, floor, roundsFor(sets))) {
        progress(
          clusterRows,
          `| ${sets.toLocaleString('en')} | ${r.combo} | ${iqr(r.deia, ms)} | ${iqr(r.floor, ms)} | **${iqr(r.ratio)}** | ${kb(r.deiaBytes)} / ${kb(r.floorBytes)} |`,
        );
      }
    } finally {
      deia.stop();
      floor.stop();
    }
  }
  agent.destroy();
  console.log('\n### Scrape CPU per scrape, deia (README configuration) vs floor4, paired\n');
  console.log(
    '| framework | label sets | format | deia ms | floor4 ms | deia / floor4 | body deia / floor4 |',
  );
  console.log('| --- | ---: | --- | ---: | ---: | ---: | ---: |');
  console.log(cpuRows.join('\n'));
  if (SETS.length > 1) {
    console.log('\n### Growth of deia CPU per scrape (x per 10x label sets; 10 is linear)\n');
    console.log(
      `| framework, format | ${SETS.slice(1)
        .map((s, i) => `${SETS[i]} -> ${s}`)
        .join(' | ')} |`,
    );
    console.log(
      `| --- | ${SETS.slice(1)
        .map(() => '---:')
        .join(' | ')} |`,
    );
    for (const [k, g] of growth) {
      const cells = SETS.slice(1).map((s, i) =>
        f2((g.get(s) ?? Number.NaN) / (g.get(SETS[i] as number) ?? Number.NaN)),
      );
      console.log(`| ${k} | ${cells.join(' | ')} |`);
    }
  }
  if (heapRows.length > 0) {
    console.log('\n### Heap per label set, bytes (deia / floor4), before and after scraping\n');
    console.log(
      '| framework | label sets | before first scrape | after scrapes |\n| --- | ---: | ---: | ---: |',
    );
    console.log(heapRows.join('\n'));
  }
  if (eldRows.length > 0) {
    console.log(
      `\n### Event-loop delay p99 (ms) while scraped back to back, ${ELD_SETS.toLocaleString('en')} label sets\n`,
    );
    console.log(
      '| framework | app | CPU per turn while scraped, p99 / max | wall delay p99 idle | scraped | added | /ping p99 idle | /ping p99 scraped |',
    );
    console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    console.log(eldRows.join('\n'));
  }
  if (clusterRows.length > 0) {
    console.log('\n### Cluster mode: primary + 2 workers, CPU of all three per scrape\n');
    console.log(
      '| label sets (per worker) | format asked | deia ms | floor4 ms | deia / floor4 | body deia / floor4 |',
    );
    console.log('| ---: | --- | ---: | ---: | ---: | ---: |');
    console.log(clusterRows.join('\n'));
  }
  if (quick && failures.length > 0) {
    console.error(
      `\nscrape CPU regressed (median ratio to floor4 above ${QUICK_LIMIT}):\n  ${failures.join('\n  ')}`,
    );
    process.exit(1);
  }
}

await main();
