import os from 'node:os';
import type { Sample } from './sample.js';
import type { AbWindow } from './server/ab.js';
import { median, type Spread, spread } from './stats.js';
import { VARIANTS, type VariantInfo } from './variants.js';

export interface Row {
  info: VariantInfo;
  samples: Sample[];
  rps: number;
  p99: number;
  cpuPerReq: number;
  cpuUtil: number;
  /** Paired ratios (this variant / the baseline measured in the same slice), median and range. */
  tputVsBare: Spread;
  cpuVsBare: Spread;
  tputVsFloor: Spread;
  cpuVsFloor: Spread;
  check: string;
  error: string | undefined;
}

const key = (s: Sample) => `${s.round}/${s.slice}`;

/** Ratios of bursts measured in the same slice of the same round (neighbours in time). */
function paired(samples: Sample[], base: Sample[], pick: (s: Sample) => number): Spread {
  const bySlice = new Map(base.map((s) => [key(s), s]));
  const ratios: number[] = [];
  for (const s of samples) {
    const b = bySlice.get(key(s));
    if (b) ratios.push(pick(s) / pick(b));
  }
  return spread(ratios);
}

export function buildRows(
  samples: Sample[],
  errors: Map<string, string>,
  checks: Map<string, string>,
  ids: Set<string>,
): Row[] {
  const of = (id: string) => samples.filter((s) => s.variant === id);
  const seen = new Set([...samples.map((s) => s.variant), ...errors.keys()]);
  return VARIANTS.filter((v) => ids.has(v.id) && seen.has(v.id)).map((info) => {
    const mine = of(info.id);
    const bare = of(info.framework);
    const floor = of(`${info.framework}+floor`);
    return {
      info,
      samples: mine,
      rps: median(mine.map((s) => s.rps)),
      p99: median(mine.map((s) => s.p99)),
      cpuPerReq: median(mine.map((s) => s.cpuPerReq)),
      cpuUtil: median(mine.map((s) => s.cpuUtil)),
      tputVsBare: paired(mine, bare, (s) => s.rps),
      cpuVsBare: paired(mine, bare, (s) => s.cpuPerReq),
      tputVsFloor: paired(mine, floor, (s) => s.rps),
      cpuVsFloor: paired(mine, floor, (s) => s.cpuPerReq),
      check: checks.get(info.id) ?? '',
      error: errors.get(info.id),
    };
  });
}

const fix = (n: number, d: number) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const ratio = (s: Spread) =>
  !Number.isFinite(s.median)
    ? 'n/a'
    : s.n > 3
      ? `${fix(s.median, 3)} (${fix(s.q1, 2)}–${fix(s.q3, 2)})`
      : fix(s.median, 3);

export function markdownTable(rows: Row[]): string {
  const head = [
    '| variant | req/s | p99 ms | CPU µs/req | server CPU | req/s vs bare | CPU/req vs bare | req/s vs floor | CPU/req vs floor |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const lines = rows.map((r) => {
    if (r.samples.length === 0)
      return `| ${r.info.id} | not measured: ${r.error ?? 'no samples'} | | | | | | | |`;
    const isBare = r.info.kind === 'bare';
    const isFloor = r.info.kind === 'floor';
    return [
      '',
      ` ${r.info.id}${r.check ? ` ⚠ ${r.check}` : ''} `,
      ` ${fix(r.rps, 0)} `,
      ` ${fix(r.p99, 1)} `,
      ` ${fix(r.cpuPerReq, 1)} `,
      ` ${fix(r.cpuUtil * 100, 0)}% `,
      ` ${isBare ? '1' : ratio(r.tputVsBare)} `,
      ` ${isBare ? '1' : ratio(r.cpuVsBare)} `,
      ` ${isBare ? '' : isFloor ? '1' : ratio(r.tputVsFloor)} `,
      ` ${isBare ? '' : isFloor ? '1' : ratio(r.cpuVsFloor)} `,
      '',
    ].join('|');
  });
  return [...head, ...lines].join('\n');
}

/**
 * The issue's targets, judged on both throughput and CPU per request: at most 3% cost against the
 * bare framework, at least 0.95x the floor, ahead of every peer.
 */
export function verdicts(rows: Row[]): string[] {
  const out: string[] = [];
  const pct = (r: number) => `${((r - 1) * 100).toFixed(1)}%`;
  for (const deia of rows.filter((r) => r.info.kind === 'deia' && r.samples.length > 0)) {
    const fw = deia.info.framework;
    const tput = deia.tputVsBare.median;
    const cpu = deia.cpuVsBare.median;
    out.push(
      `- **${deia.info.id} vs bare ${fw}**: throughput ${pct(tput)} (target ≥ −3%: ${tput >= 0.97 ? 'met' : 'MISSED'}), ` +
        `CPU per request ${cpu >= 1 ? '+' : ''}${pct(cpu)} (target ≤ +3%: ${cpu <= 1.03 ? 'met' : 'MISSED'}).`,
    );
    const fT = deia.tputVsFloor.median;
    const fC = deia.cpuVsFloor.median;
    out.push(
      `- **${deia.info.id} vs floor**: throughput ${fix(fT, 3)}x (target ≥ 0.95x: ${fT >= 0.95 ? 'met' : 'MISSED'}), ` +
        `CPU per request ${fix(fC, 3)}x (i.e. ≥ 0.95x the floor's CPU-bound throughput when ≤ ${fix(1 / 0.95, 3)}: ${fC <= 1 / 0.95 ? 'met' : 'MISSED'}).`,
    );
    for (const peer of rows.filter((r) => r.info.framework === fw && r.info.kind === 'peer')) {
      if (peer.samples.length === 0) continue;
      const t = paired(deia.samples, peer.samples, (s) => s.rps);
      const c = paired(deia.samples, peer.samples, (s) => s.cpuPerReq);
      const aheadT = t.median > 1;
      const aheadC = c.median < 1;
      out.push(
        `- **${deia.info.id} vs ${peer.info.id}** (paired by slice): throughput ${ratio(t)}x, CPU per request ${ratio(c)}x ` +
          `(${aheadT && aheadC ? 'ahead' : aheadT || aheadC ? 'MIXED' : 'BEHIND'}).`,
      );
    }
  }
  const off = rows.find((r) => r.info.id === 'express+deia');
  for (const on of rows.filter((r) => r.info.kind === 'tracing')) {
    if (!off || on.samples.length === 0 || off.samples.length === 0) continue;
    const t = paired(on.samples, off.samples, (s) => s.rps);
    const c = paired(on.samples, off.samples, (s) => s.cpuPerReq);
    out.push(
      `- **tracing on vs off** (${on.info.id} / express+deia, paired by slice): throughput ${ratio(t)}, CPU per request ${ratio(c)}.`,
    );
  }
  return out;
}

export interface RunInfo {
  command: string;
  rounds: number;
  slices: number;
  slice: number;
  connections: number;
  warmup: number;
  startedAt: Date;
  elapsedSeconds: number;
  loadBefore: number[];
  loadAfter: number[];
  nice: number;
  abSeconds: number;
  abWindowMs: number;
}

export function machineNote(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
}

const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');

/** The generated part of docs/benchmarks.md. */
export function resultsSection(rows: Row[], ab: AbResult[], run: RunInfo): string {
  return [
    `Measured ${run.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC with \`${run.command}\``,
    `(${run.rounds} rounds of fresh server processes × ${run.slices} interleaved bursts of ${run.slice} s per variant, ` +
      `${run.warmup} s warm-up, ${run.connections} connections; ${Math.round(run.elapsedSeconds)} s in all).`,
    `Machine: ${machineNote()}. Shared and noisy: the load generator and the server share the cores with`,
    `whatever else runs (load average ${load(run.loadBefore)} before, ${load(run.loadAfter)} after; nice ${run.nice}).`,
    '',
    '### Separate processes, interleaved bursts',
    '',
    markdownTable(rows),
    '',
    ...verdicts(rows),
    ...(ab.length > 0
      ? [
          '',
          `### Same process A/B (${run.abSeconds} s of load per framework, modes switched every ${run.abWindowMs} ms)`,
          '',
          abTable(ab),
        ]
      : []),
  ].join('\n');
}

export interface AbResult {
  framework: string;
  windows: AbWindow[];
  check: string;
}

/** Same-process A/B: per-cycle paired CPU/request ratios (see server/ab.ts). */
export function abTable(results: AbResult[]): string {
  const lines = [
    '| framework (same process) | cycles | CPU µs/req bare / floor / deia | floor vs bare | deia vs bare | deia vs floor |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of results) {
    const cycles = new Map<number, Map<string, AbWindow>>();
    for (const w of r.windows) {
      const c = cycles.get(w.cycle) ?? new Map<string, AbWindow>();
      c.set(w.mode, w);
      cycles.set(w.cycle, c);
    }
    const per = (w: AbWindow | undefined) => (w && w.requests >= 20 ? w.cpuUs / w.requests : Number.NaN);
    const fb: number[] = [];
    const db: number[] = [];
    const df: number[] = [];
    let n = 0;
    for (const c of cycles.values()) {
      const [b, f, d] = [per(c.get('bare')), per(c.get('floor')), per(c.get('deia'))];
      if (!(b > 0 && f > 0 && d > 0)) continue;
      n++;
      fb.push(f / b);
      db.push(d / b);
      df.push(d / f);
    }
    const total = (mode: string) => {
      const ws = r.windows.filter((w) => w.mode === mode);
      return (
        ws.reduce((a, w) => a + w.cpuUs, 0) /
        Math.max(
          1,
          ws.reduce((a, w) => a + w.requests, 0),
        )
      );
    };
    lines.push(
      `| ${r.framework}${r.check ? ` ⚠ ${r.check}` : ''} | ${n} | ${fix(total('bare'), 1)} / ${fix(total('floor'), 1)} / ${fix(total('deia'), 1)} | ` +
        `${ratio(spread(fb))} | ${ratio(spread(db))} | ${ratio(spread(df))} |`,
    );
  }
  return lines.join('\n');
}
