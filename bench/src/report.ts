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
    '| framework (same process) | mode | cycles | CPU µs/req | CPU/req vs bare | CPU/req vs floor | deia vs this |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  const verdictLines: string[] = [];
  for (const r of results) {
    const cycles = new Map<number, Map<string, number>>();
    for (const w of r.windows) {
      if (w.requests < 20) continue; // a window cut short (start, stop): no useful ratio
      const c = cycles.get(w.cycle) ?? new Map<string, number>();
      c.set(w.mode, w.cpuUs / w.requests);
      cycles.set(w.cycle, c);
    }
    const modes = [...new Set(r.windows.map((w) => w.mode))];
    const vs = (a: string, b: string) => {
      const out: number[] = [];
      for (const c of cycles.values()) {
        const x = c.get(a);
        const y = c.get(b);
        if (x !== undefined && y !== undefined) out.push(x / y);
      }
      return spread(out);
    };
    for (const mode of modes) {
      const ws = r.windows.filter((w) => w.mode === mode);
      const total =
        ws.reduce((a, w) => a + w.cpuUs, 0) /
        Math.max(
          1,
          ws.reduce((a, w) => a + w.requests, 0),
        );
      const n = [...cycles.values()].filter((c) => c.has(mode)).length;
      const cells = [
        mode === 'bare' ? '1' : ratio(vs(mode, 'bare')),
        mode === 'bare' ? '' : mode === 'floor' ? '1' : ratio(vs(mode, 'floor')),
        mode === 'deia' ? '1' : ratio(vs('deia', mode)),
      ];
      lines.push(
        `| ${r.framework}${r.check && mode === 'deia' ? ` ⚠ ${r.check}` : ''} | ${mode} | ${n} | ${fix(total, 1)} | ${cells.join(' | ')} |`,
      );
    }
    const pct = (x: number) => `${x >= 1 ? '+' : ''}${((x - 1) * 100).toFixed(1)}%`;
    const b = vs('deia', 'bare').median;
    const f = vs('deia', 'floor').median;
    const peers = modes.filter((m) => !['bare', 'floor', 'deia'].includes(m));
    verdictLines.push(
      `- **${r.framework}, same process**: deia CPU per request vs bare ${pct(b)} (target ≤ +3%: ${b <= 1.03 ? 'met' : 'MISSED'}); ` +
        `vs floor ${fix(f, 3)}x (target ≤ ${fix(1 / 0.95, 3)}x, i.e. ≥ 0.95x the floor's throughput: ${f <= 1 / 0.95 ? 'met' : 'MISSED'}); ` +
        `vs ${peers.map((p) => `${p} ${fix(vs('deia', p).median, 3)}x`).join(', ')} ` +
        `(${peers.every((p) => vs('deia', p).median < 1) ? 'ahead of every peer' : 'NOT ahead of every peer'}).`,
    );
  }
  return [...lines, '', ...verdictLines].join('\n');
}
