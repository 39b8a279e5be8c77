import { OTHER_LABEL_VALUE, OVERFLOW_LABEL_VALUE } from './catalog.js';
import { createLabelGuard } from './guard.js';
import type { Labels, MetricDefinition } from './types.js';

/** Why a recording did not get a series of its own, or why a series went away. */
export type DropReason = 'label_cap' | 'budget' | 'expired';

/** Shared by every metric of one `createMetrics()` handle. */
export interface LabelSetContext {
  /** Cap of distinct values per free label (`maxLabelValues`). */
  readonly defaultCap: number;
  /** Cap of label sets per metric (`maxSeriesPerMetric`), unless the definition sets `maxSeries`. */
  readonly defaultMaxSeries: number;
  /** The idle clock: a tick number the sweeper advances; 0 for ever when no TTL is set. */
  readonly clock: { tick: number };
  /** Called once per metric and label (or `series` for the budget) the first time it overflows. */
  onOverflow(metric: string, label: string): void;
  /** Counts recordings folded into an overflow series and series that expired. */
  onDrop(metric: string, reason: DropReason, count: number): void;
}

/**
 * Guards one metric's label values and, for a metric with free labels (no `labelValues`), keeps its
 * live label sets so they can be removed, expired and budgeted:
 * - declared labels: a value outside the list is recorded as `other`;
 * - free labels: at most `maxLabelValues` distinct values among the live label sets, and at most
 *   `maxSeries` live label sets; a recording that would exceed either is recorded in the overflow
 *   series (every free label `__overflow__`, declared labels kept), so sums stay right;
 * - a removed or expired label set frees its values and its place in the budget.
 */
export interface LabelSets<L extends string = string> {
  /** The labels to record (the caller's object when nothing needs rewriting and nothing is tracked). */
  admit(labels: Labels<L> | undefined): Labels<L> | undefined;
  /** Forgets the live label sets matching every given label; returns their labels, for `metric.remove`. */
  remove(match: Partial<Record<L, string | number>>): Array<Labels<L>>;
  /** Forgets the label sets not recorded since tick `before`; returns their labels. */
  expire(before: number): Array<Labels<L>>;
  /** Live label sets, overflow series included. */
  readonly size: number;
}

interface Entry<L extends string> {
  labels: Labels<L>;
  key: string;
  touched: number;
  overflow: boolean;
}

const SEP = '\u0001';
/** Key part of a label left out (not the empty string, which is a value). */
const ABSENT = '\u0002';

/**
 * Creates the guard of one metric. Metrics without a free label (or the HTTP families, whose
 * route and status the HTTP core bounds with `maxRoutes`) get the plain declared-value guard.
 *
 * Long because: `admit` runs on every recording and shares its state (the live sets, the per-value
 * index, the `kept` count, the scratch `values` that `keyOf` fills for `labelsOf`) with `remove`,
 * `expire` and `forget` as locals of one closure; split, that state would become an object's fields
 * read on the hot path, and the bookkeeping that must agree would be read in four places.
 */
export function createLabelSets<L extends string>(
  def: MetricDefinition,
  ctx: LabelSetContext,
  track: boolean,
): LabelSets<L> {
  const names = def.labelNames as readonly L[];
  const free = names.filter((l) => def.labelValues?.[l] === undefined);
  if (!track || free.length === 0) {
    const guard = createLabelGuard<L>(def, ctx.defaultCap, ctx.onOverflow);
    return { admit: guard, remove: () => [], expire: () => [], size: 0 };
  }
  const declared = new Map<L, Set<string>>();
  for (const l of names) {
    const values = def.labelValues?.[l];
    if (values !== undefined) declared.set(l, new Set(values));
  }
  const isFree = names.map((l) => !declared.has(l));
  const cap = def.maxLabelValues ?? ctx.defaultCap;
  const budget = def.maxSeries ?? ctx.defaultMaxSeries;
  const clock = ctx.clock;
  const sets = new Map<string, Entry<L>>();
  let kept = 0; // live label sets that are not overflow series (what the budget counts)
  // free label -> value -> keys of the live label sets carrying it (the per-label cap and removal)
  const byValue = new Map<L, Map<string, Set<string>>>(free.map((l) => [l, new Map()]));
  const warned = new Set<string>();
  const overflowed = (label: string, reason: DropReason) => {
    if (!warned.has(label)) {
      warned.add(label);
      ctx.onOverflow(def.name, label);
    }
    ctx.onDrop(def.name, reason, 1);
  };

  const values: string[] = new Array(names.length);
  const keyOf = (labels: Labels<L> | undefined): string => {
    let key = '';
    for (let i = 0; i < names.length; i++) {
      const raw = labels?.[names[i] as L];
      let v = raw === undefined ? ABSENT : typeof raw === 'string' ? raw : String(raw);
      if (!isFree[i] && raw !== undefined && !(declared.get(names[i] as L) as Set<string>).has(v))
        v = OTHER_LABEL_VALUE;
      values[i] = v;
      key = i === 0 ? v : key + SEP + v;
    }
    return key;
  };
  const labelsOf = (overflow: boolean, given: Labels<L> | undefined): Labels<L> => {
    const out = {} as Labels<L>;
    for (let i = 0; i < names.length; i++) {
      const l = names[i] as L;
      if (given?.[l] === undefined) continue; // a label left out stays left out (prom-client's rule)
      out[l] = overflow && isFree[i] ? OVERFLOW_LABEL_VALUE : (values[i] as string);
    }
    return out;
  };
  const forget = (e: Entry<L>): void => {
    sets.delete(e.key);
    if (e.overflow) return;
    kept--;
    for (const l of free) {
      const v = e.labels[l];
      if (v === undefined) continue;
      const byV = byValue.get(l) as Map<string, Set<string>>;
      const keys = byV.get(String(v));
      keys?.delete(e.key);
      if (keys?.size === 0) byV.delete(String(v));
    }
  };

  const admit = (labels: Labels<L> | undefined): Labels<L> | undefined => {
    const key = keyOf(labels);
    const found = sets.get(key);
    if (found !== undefined) {
      found.touched = clock.tick;
      return found.labels;
    }
    let reason: DropReason | undefined;
    let label = 'series';
    for (let i = 0; i < names.length && reason === undefined; i++) {
      if (!isFree[i] || labels?.[names[i] as L] === undefined) continue;
      const byV = byValue.get(names[i] as L) as Map<string, Set<string>>;
      if (values[i] === OVERFLOW_LABEL_VALUE || (!byV.has(values[i] as string) && byV.size >= cap)) {
        reason = 'label_cap';
        label = names[i] as string;
      }
    }
    if (reason === undefined && kept >= budget) reason = 'budget';
    if (reason !== undefined) {
      overflowed(label, reason);
      const over = labelsOf(true, labels);
      const overKey = keyOf(over);
      const existing = sets.get(overKey);
      if (existing !== undefined) {
        existing.touched = clock.tick;
        return existing.labels;
      }
      sets.set(overKey, { labels: over, key: overKey, touched: clock.tick, overflow: true });
      return over;
    }
    const own = labelsOf(false, labels);
    sets.set(key, { labels: own, key, touched: clock.tick, overflow: false });
    kept++;
    for (let i = 0; i < names.length; i++) {
      if (!isFree[i] || labels?.[names[i] as L] === undefined) continue;
      const byV = byValue.get(names[i] as L) as Map<string, Set<string>>;
      const keys = byV.get(values[i] as string);
      if (keys === undefined) byV.set(values[i] as string, new Set([key]));
      else keys.add(key);
    }
    return own;
  };

  const matches = (e: Entry<L>, match: ReadonlyArray<[L, string]>) =>
    match.every(([l, v]) => e.labels[l] !== undefined && String(e.labels[l]) === v);
  const remove = (match: Partial<Record<L, string | number>>): Array<Labels<L>> => {
    const pairs = (Object.keys(match) as L[])
      .filter((l) => names.includes(l) && match[l] !== undefined)
      .map((l): [L, string] => [l, String(match[l])]);
    if (pairs.length !== Object.keys(match).length) return []; // a label this metric does not have
    // the live sets carrying one given free value, when there is one; else every set
    const indexed = pairs.find(([l]) => byValue.has(l));
    const candidates: Iterable<Entry<L>> =
      indexed === undefined
        ? [...sets.values()]
        : [...((byValue.get(indexed[0]) as Map<string, Set<string>>).get(indexed[1]) ?? [])].map(
            (k) => sets.get(k) as Entry<L>,
          );
    const out: Array<Labels<L>> = [];
    for (const e of candidates) {
      if (!matches(e, pairs)) continue;
      forget(e);
      out.push(e.labels);
    }
    // overflow series are only removed when asked for by their value
    if (indexed !== undefined && indexed[1] === OVERFLOW_LABEL_VALUE) {
      for (const e of [...sets.values()]) {
        if (e.overflow && matches(e, pairs)) {
          forget(e);
          out.push(e.labels);
        }
      }
    }
    return out;
  };
  const expire = (before: number): Array<Labels<L>> => {
    const out: Array<Labels<L>> = [];
    for (const e of sets.values()) {
      if (e.touched >= before) continue;
      forget(e); // deleting the current entry while iterating a Map is safe
      out.push(e.labels);
    }
    if (out.length > 0) ctx.onDrop(def.name, 'expired', out.length);
    return out;
  };
  return {
    admit,
    remove,
    expire,
    get size() {
      return sets.size;
    },
  };
}
