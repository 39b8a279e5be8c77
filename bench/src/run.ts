/**
 * Benchmark runner: `pnpm --filter @deia/bench bench [options]`. See docs/benchmarks.md.
 *
 * Every round starts a fresh server process per variant (127.0.0.1, port 0), warms each up, then
 * gives every variant one short autocannon burst per slice, in an order that rotates every slice,
 * reading the server's CPU time over IPC around each burst. Interleaving short bursts spreads the
 * noise of a shared host evenly over the variants; ratios are paired per slice, then the median.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { summarizeProfile } from './profile.js';
import { type AbResult, abTable, buildRows, markdownTable, resultsSection, verdicts } from './report.js';
import { AbServer, BENCH_DIR, measure, type Sample, VariantServer } from './sample.js';
import { VARIANTS, type VariantInfo } from './variants.js';

const HELP = `Usage: pnpm --filter @deia/bench bench [options]
  --quick            ~2 minute smoke: 1 round, 2 slices of 1 s, 1 s warm-up; docs not written
  --rounds N         rounds, each with fresh server processes; 0 runs only the A/B (default 2)
  --slices N         measured bursts per variant per round (default 7)
  --slice S          seconds per burst (default 1.5)
  --warmup S         warm-up seconds per server at the start of a round (default 2)
  --connections C    autocannon connections (default 50)
  --ab-seconds S     same-process A/B (bare/floor/deia/peers switched in one server) per framework, run
                     first; 0 skips it (default 45, --quick 8)
  --ab-window MS     A/B window per mode in ms (default 200)
  --only REGEX       variants whose id matches (their framework's bare and floor are always kept)
  --max-minutes M    hard bound on the whole run: no burst starts after it (default 10)
  --nice N           scheduling priority of the runner and the servers (e.g. -5; needs privileges):
                     less noise from other processes on a shared host (default: unchanged)
  --write/--no-write write the results into docs/benchmarks.md (default: on, off for --quick/--only)
  --profile IDS      comma-separated variant ids: one server each with the V8 CPU profiler on over one
                     measured burst (--slice seconds, default 5 here), then a summary of where its CPU
                     time goes (.cpuprofile files in bench/profiles, open them in Chrome DevTools)
`;

const DOCS = join(BENCH_DIR, '..', 'docs', 'benchmarks.md');
const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

function parse() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      slices: { type: 'string' },
      slice: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      'ab-seconds': { type: 'string' },
      'ab-window': { type: 'string' },
      only: { type: 'string' },
      'max-minutes': { type: 'string' },
      nice: { type: 'string' },
      write: { type: 'boolean' },
      'no-write': { type: 'boolean' },
      profile: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    args: process.argv.slice(2).filter((a) => a !== '--'),
  });
  const num = (v: string | undefined, d: number, name: string) => {
    const n = v === undefined ? d : Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got "${v}"`);
    return n;
  };
  const quick = values.quick === true;
  const profile = values.profile?.split(',').filter(Boolean);
  const nice = values.nice === undefined ? undefined : Number(values.nice);
  if (nice !== undefined && (!Number.isInteger(nice) || nice < -20 || nice > 19)) {
    throw new Error('--nice must be an integer from -20 to 19');
  }
  return {
    help: values.help === true,
    quick,
    rounds: Math.round(num(values.rounds, quick ? 1 : 2, 'rounds')), // 0: only the A/B
    slices: Math.max(1, Math.round(num(values.slices, quick ? 2 : 7, 'slices'))),
    slice: Math.max(0.5, num(values.slice, profile ? 5 : quick ? 1 : 1.5, 'slice')),
    warmup: num(values.warmup, quick ? 1 : 2, 'warmup'),
    connections: Math.max(1, Math.round(num(values.connections, 50, 'connections'))),
    abSeconds: num(values['ab-seconds'], quick ? 8 : 45, 'ab-seconds'),
    abWindowMs: Math.max(50, num(values['ab-window'], 200, 'ab-window')),
    only: values.only === undefined ? undefined : new RegExp(values.only),
    maxMinutes: num(values['max-minutes'], 10, 'max-minutes'),
    nice,
    write: values['no-write']
      ? false
      : (values.write ?? (!quick && values.only === undefined && values.rounds !== '0')),
    profile,
  };
}

type Args = ReturnType<typeof parse>;

function selected(only: RegExp | undefined): VariantInfo[] {
  if (!only) return [...VARIANTS];
  const hit = VARIANTS.filter((v) => only.test(v.id));
  const frameworks = new Set(hit.map((v) => v.framework));
  return VARIANTS.filter(
    (v) => hit.includes(v) || (frameworks.has(v.framework) && (v.kind === 'bare' || v.kind === 'floor')),
  );
}

/** Rotates the order every slice and reverses every other one, so no variant always follows another. */
function order<T>(items: T[], step: number): T[] {
  const n = items.length;
  const shift = (step * 5) % n;
  const rotated = [...items.slice(shift), ...items.slice(0, shift)];
  return step % 2 === 1 ? rotated.reverse() : rotated;
}

async function profile(args: Args, ids: string[]): Promise<void> {
  const dir = join(BENCH_DIR, 'profiles');
  mkdirSync(dir, { recursive: true });
  for (const id of ids) {
    const info = VARIANTS.find((v) => v.id === id);
    if (!info) throw new Error(`unknown variant "${id}"`);
    const file = join(dir, `${id.replace(/[^a-z0-9]+/gi, '_')}.cpuprofile`);
    const load = {
      connections: args.connections,
      warmup: args.warmup,
      duration: args.slice,
      profileFile: file,
    };
    const s = await measure(info, load);
    console.log(
      `\n## ${id}: ${s.rps.toFixed(0)} req/s, ${s.cpuPerReq.toFixed(1)} µs CPU/req (profiler on, so slower)${s.check ? ` ⚠ ${s.check}` : ''}\n`,
    );
    console.log(summarizeProfile(file, s.cpuPerReq));
  }
}

const fmt = (s: Sample) =>
  `${s.rps.toFixed(0).padStart(6)} req/s  p99 ${s.p99.toFixed(1).padStart(5)} ms  ${s.cpuPerReq
    .toFixed(1)
    .padStart(
      6,
    )} µs/req  cpu ${(s.cpuUtil * 100).toFixed(0).padStart(3)}%${s.errors ? `  errors ${s.errors}` : ''}`;

async function main(): Promise<void> {
  const args = parse();
  if (args.help) {
    console.log(HELP);
    return;
  }
  if (args.nice !== undefined) os.setPriority(args.nice); // the server children inherit it
  if (args.profile) return profile(args, args.profile);

  const variants = selected(args.only);
  const frameworks = [...new Set(variants.map((v) => v.framework))];
  const abTime = args.abSeconds > 0 ? frameworks.length * (args.abSeconds + args.warmup + 4) : 0;
  const perRound = variants.length * (2 + args.warmup + args.slices * (args.slice + 0.5));
  const deadline = Date.now() + args.maxMinutes * 60_000;
  const startedAt = new Date();
  const loadBefore = os.loadavg();
  console.log(
    `${variants.length} variants × ${args.rounds} rounds × ${args.slices} bursts of ${args.slice} s, ` +
      `${args.connections} connections, ${args.warmup} s warm-up, nice ${os.getPriority()}: ~${Math.ceil(
        (abTime + args.rounds * perRound) / 60,
      )} min; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
  );

  const ab: AbResult[] = [];
  if (args.abSeconds > 0) {
    for (const framework of frameworks) {
      let server: AbServer;
      try {
        server = await AbServer.start(framework);
      } catch (err) {
        console.log(`same-process A/B ${framework} unavailable: ${(err as Error).message.split('\n')[0]}`);
        continue;
      }
      try {
        await server.run(args.connections, args.warmup, args.abWindowMs); // warm every mode
        const windows = await server.run(args.connections, args.abSeconds, args.abWindowMs);
        ab.push({ framework, windows, check: await server.check() });
      } finally {
        await server.stop();
      }
      console.log(
        `same-process A/B ${framework} done after ${Math.round((Date.now() - startedAt.getTime()) / 1000)} s`,
      );
    }
    console.log(`\n${abTable(ab)}\n`);
  }

  const samples: Sample[] = [];
  const errors = new Map<string, string>();
  const checks = new Map<string, string>();
  let stopped = false;
  for (let round = 0; round < args.rounds && !stopped; round++) {
    // Fresh processes for this round, started one at a time (start-up compiles TypeScript).
    const servers: VariantServer[] = [];
    for (const info of variants) {
      if (errors.has(info.id)) continue;
      try {
        servers.push(await VariantServer.start(info));
      } catch (err) {
        const message = (err as Error).message.split('\n')[0] ?? String(err);
        errors.set(info.id, message);
        console.log(`${info.id}: unavailable: ${message}`);
      }
    }
    try {
      for (const server of servers) await server.warm(args.connections, args.warmup);
      for (let slice = 0; slice < args.slices && !stopped; slice++) {
        for (const server of order(servers, round * args.slices + slice)) {
          if (Date.now() + args.slice * 1000 > deadline) {
            console.log(`--max-minutes ${args.maxMinutes} reached: stopping in round ${round + 1}`);
            stopped = true;
            break;
          }
          const s = await server.burst(args.connections, args.slice, round, slice);
          samples.push(s);
          if (process.stdout.isTTY || args.quick) {
            console.log(`r${round + 1} s${slice + 1} ${server.info.id.padEnd(31)} ${fmt(s)}`);
          }
        }
      }
      for (const server of servers) {
        const problem = await server.check();
        if (problem) checks.set(server.info.id, problem);
      }
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
    console.log(
      `round ${round + 1}/${args.rounds} done after ${Math.round((Date.now() - startedAt.getTime()) / 1000)} s`,
    );
  }

  const rows = buildRows(samples, errors, checks, new Set(variants.map((v) => v.id)));
  if (rows.length > 0) console.log(`\n${markdownTable(rows)}\n\n${verdicts(rows).join('\n')}`);
  if (ab.length > 0) console.log(`\n${abTable(ab)}`);

  const elapsedSeconds = (Date.now() - startedAt.getTime()) / 1000;
  const argv = process.argv.slice(2).filter((a) => a !== '--');
  const command = ['pnpm --filter @deia/bench bench', ...argv].join(' ');
  const results = join(BENCH_DIR, 'results');
  mkdirSync(results, { recursive: true });
  writeFileSync(
    join(results, 'latest.json'),
    JSON.stringify(
      {
        startedAt,
        args: { ...args, only: args.only?.source },
        samples,
        errors: [...errors],
        checks: [...checks],
      },
      null,
      2,
    ),
  );
  if (args.write) {
    const section = resultsSection(rows, ab, {
      command,
      rounds: args.rounds,
      slices: args.slices,
      slice: args.slice,
      connections: args.connections,
      warmup: args.warmup,
      startedAt,
      elapsedSeconds,
      loadBefore,
      loadAfter: os.loadavg(),
      nice: os.getPriority(),
      abSeconds: args.abSeconds,
      abWindowMs: args.abWindowMs,
    });
    const doc = readFileSync(DOCS, 'utf8');
    const a = doc.indexOf(START);
    const b = doc.indexOf(END);
    if (a < 0 || b < a) throw new Error(`${DOCS} lacks the ${START} / ${END} markers`);
    writeFileSync(DOCS, `${doc.slice(0, a + START.length)}\n${section}\n${doc.slice(b)}`);
    console.log('\nwrote the results into docs/benchmarks.md');
  }
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exitCode = 1;
});
