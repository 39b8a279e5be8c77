/**
 * Benchmark runner: `pnpm --filter @deia/bench bench [-- options]`. See docs/benchmarks.md.
 *
 * Each sample starts a fresh server child (127.0.0.1, port 0) for one variant, drives it from this
 * process with autocannon, and reads the child's CPU time over IPC. Variants alternate round-robin
 * (rotated every round); the report gives medians and per-round paired ratios.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { summarizeProfile } from './profile.js';
import { buildRows, markdownTable, resultsSection, verdicts } from './report.js';
import { BENCH_DIR, type LoadOptions, measure, type Sample } from './sample.js';
import { VARIANTS, type VariantInfo } from './variants.js';

const HELP = `Usage: pnpm --filter @deia/bench bench [-- options]
  --quick            ~1 minute smoke: 1 round, 2 s per sample, 1 s warm-up, docs not written
  --rounds N         rounds over all variants (default 5)
  --duration S       measured seconds per sample (default 5)
  --warmup S         warm-up seconds per sample (default 2)
  --connections C    autocannon connections (default 50)
  --only REGEX       variants whose id matches (their framework's bare and floor are always kept)
  --nice N           scheduling priority of the runner and the servers (e.g. -5; needs privileges):
                     less noise from other processes on a shared host (default 0, unchanged)
  --max-minutes M    hard bound on the whole run; no sample starts after it (default 10)
  --write/--no-write write docs/benchmarks.md (default: on for full runs, off for --quick/--only)
  --profile IDS      comma-separated variant ids: one sample each with the V8 CPU profiler on in the
                     server over the measured window, then a summary of where its CPU time goes
                     (.cpuprofile files in bench/profiles, open them in Chrome DevTools)
`;

const DOCS = join(BENCH_DIR, '..', 'docs', 'benchmarks.md');
const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

function parse() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      only: { type: 'string' },
      'max-minutes': { type: 'string' },
      write: { type: 'boolean' },
      'no-write': { type: 'boolean' },
      profile: { type: 'string' },
      nice: { type: 'string' },
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
  return {
    help: values.help === true,
    quick,
    rounds: Math.max(1, Math.round(num(values.rounds, quick ? 1 : 5, 'rounds'))),
    duration: Math.max(1, num(values.duration, quick ? 2 : 5, 'duration')),
    warmup: num(values.warmup, quick ? 1 : 2, 'warmup'),
    connections: Math.max(1, Math.round(num(values.connections, 50, 'connections'))),
    only: values.only === undefined ? undefined : new RegExp(values.only),
    maxMinutes: num(values['max-minutes'], 10, 'max-minutes'),
    write: values['no-write'] ? false : (values.write ?? (!quick && values.only === undefined)),
    profile: values.profile?.split(',').filter(Boolean),
    nice: values.nice === undefined ? undefined : Number(values.nice),
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

/** Rotates the order every round and reverses every other round, so no variant always runs first. */
function order(variants: VariantInfo[], round: number): VariantInfo[] {
  const n = variants.length;
  const shift = (round * 3) % n;
  const rotated = [...variants.slice(shift), ...variants.slice(0, shift)];
  return round % 2 === 1 ? rotated.reverse() : rotated;
}

async function profile(args: Args, ids: string[]): Promise<void> {
  const dir = join(BENCH_DIR, 'profiles');
  mkdirSync(dir, { recursive: true });
  for (const id of ids) {
    const info = VARIANTS.find((v) => v.id === id);
    if (!info) throw new Error(`unknown variant "${id}"`);
    const file = join(dir, `${id.replace(/[^a-z0-9]+/gi, '_')}.cpuprofile`);
    const load: LoadOptions = {
      connections: args.connections,
      warmup: args.warmup,
      duration: args.duration,
      profileFile: file,
    };
    const s = await measure(info, 0, load);
    console.log(
      `\n## ${id}: ${s.rps.toFixed(0)} req/s, ${s.cpuPerReq.toFixed(1)} µs CPU/req (profiler on, so slower)\n`,
    );
    console.log(summarizeProfile(file, s.cpuPerReq));
  }
}

async function main(): Promise<void> {
  const args = parse();
  if (args.help) {
    console.log(HELP);
    return;
  }
  if (args.nice !== undefined) {
    if (!Number.isInteger(args.nice) || args.nice < -20 || args.nice > 19) {
      throw new Error('--nice must be an integer from -20 to 19');
    }
    os.setPriority(args.nice); // children inherit it
  }
  if (args.profile) return profile(args, args.profile);

  const variants = selected(args.only);
  const perSample = args.warmup + args.duration + 1.5;
  const deadline = Date.now() + args.maxMinutes * 60_000;
  const startedAt = new Date();
  const loadBefore = os.loadavg();
  console.log(
    `${variants.length} variants × ${args.rounds} rounds, ~${Math.round((variants.length * args.rounds * perSample) / 60)} min ` +
      `(${args.warmup} s warm-up + ${args.duration} s per sample, ${args.connections} connections, nice ${os.getPriority()}); load average ${loadBefore
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );

  const samples: Sample[] = [];
  const errors = new Map<string, string>();
  let stopped = false;
  for (let round = 0; round < args.rounds && !stopped; round++) {
    for (const info of order(variants, round)) {
      if (errors.has(info.id)) continue;
      if (Date.now() + perSample * 1000 > deadline) {
        console.log(
          `--max-minutes ${args.maxMinutes} reached: stopping before round ${round + 1} is complete`,
        );
        stopped = true;
        break;
      }
      try {
        const s = await measure(info, round, args);
        samples.push(s);
        console.log(
          `round ${round + 1}/${args.rounds} ${info.id.padEnd(24)} ${s.rps.toFixed(0).padStart(6)} req/s  p99 ${s.p99
            .toFixed(1)
            .padStart(
              5,
            )} ms  ${s.cpuPerReq.toFixed(1).padStart(6)} µs/req  cpu ${(s.cpuUtil * 100).toFixed(0)}%` +
            `${s.errors ? `  errors ${s.errors}` : ''}${s.check ? `  ⚠ ${s.check}` : ''}`,
        );
      } catch (err) {
        const message = (err as Error).message.split('\n')[0] ?? String(err);
        errors.set(info.id, message);
        console.log(`round ${round + 1}/${args.rounds} ${info.id.padEnd(24)} unavailable: ${message}`);
      }
    }
  }

  const ids = new Set(variants.map((v) => v.id));
  const rows = buildRows(samples, errors, ids);
  console.log(`\n${markdownTable(rows)}\n\n${verdicts(rows).join('\n')}`);

  const elapsedSeconds = (Date.now() - startedAt.getTime()) / 1000;
  const argv = process.argv.slice(2).filter((a) => a !== '--');
  const command = ['pnpm --filter @deia/bench bench', ...argv].join(' ');
  const results = join(BENCH_DIR, 'results');
  mkdirSync(results, { recursive: true });
  writeFileSync(
    join(results, 'latest.json'),
    JSON.stringify(
      { startedAt, args: { ...args, only: args.only?.source }, samples, errors: [...errors] },
      null,
      2,
    ),
  );
  if (args.write) {
    const section = resultsSection(rows, {
      command,
      rounds: args.rounds,
      connections: args.connections,
      warmup: args.warmup,
      duration: args.duration,
      startedAt,
      elapsedSeconds,
      loadBefore,
      loadAfter: os.loadavg(),
      nice: os.getPriority(),
    });
    const doc = readFileSync(DOCS, 'utf8');
    const a = doc.indexOf(START);
    const b = doc.indexOf(END);
    if (a < 0 || b < a) throw new Error(`${DOCS} lacks the ${START} / ${END} markers`);
    writeFileSync(DOCS, `${doc.slice(0, a + START.length)}\n${section}\n${doc.slice(b)}`);
    console.log(`\nwrote the results into docs/benchmarks.md`);
  }
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exitCode = 1;
});
