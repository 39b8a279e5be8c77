export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median and range of a set of values (NaN when empty). */
export interface Spread {
  median: number;
  /** 25th and 75th percentiles. */
  q1: number;
  q3: number;
  min: number;
  max: number;
  n: number;
}

export function spread(values: readonly number[]): Spread {
  const ok = values.filter((v) => Number.isFinite(v));
  if (ok.length === 0) {
    return { median: Number.NaN, q1: Number.NaN, q3: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
  }
  return {
    median: median(ok),
    q1: quantile(ok, 0.25),
    q3: quantile(ok, 0.75),
    min: Math.min(...ok),
    max: Math.max(...ok),
    n: ok.length,
  };
}

/** Linear-interpolated quantile, q in [0, 1]. */
export function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}
