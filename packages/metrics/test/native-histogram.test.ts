import { describe, expect, it } from 'vitest';
import { decodeBuckets, encodeBuckets, NativeSeries, type NativeSettings } from '../src/native-histogram.js';
import { boundsOf, frexp, keyOf, schemaForFactor, upperBound } from '../src/native-math.js';

const settings = (o: Partial<NativeSettings> = {}): NativeSettings => ({
  schema: 3,
  zeroThreshold: 2 ** -128,
  maxBuckets: 0,
  minResetMs: 0,
  maxZeroThreshold: 0,
  maxExemplars: 10,
  exemplarTtlMs: 300_000,
  now: () => 1_000,
  ...o,
});
const next = (v: number) => {
  const b = new Float64Array([v]);
  const u = new BigUint64Array(b.buffer);
  u[0] = (u[0] as bigint) + 1n;
  return b[0] as number;
};
const prev = (v: number) => {
  const b = new Float64Array([v]);
  const u = new BigUint64Array(b.buffer);
  u[0] = (u[0] as bigint) - 1n;
  return b[0] as number;
};
const buckets = (s: NativeSeries, side: 'positive' | 'negative' = 'positive') =>
  Object.fromEntries([...s[side]].sort(([a], [b]) => a - b));

describe('native histogram math', () => {
  it('frexp decomposes exactly, subnormals included', () => {
    const out = new Float64Array(1);
    expect([frexp(1, out), out[0]]).toEqual([1, 0.5]);
    expect([frexp(3, out), out[0]]).toEqual([2, 0.75]);
    expect([frexp(0.1, out), out[0]]).toEqual([-3, 0.8]);
    expect([frexp(Number.MAX_VALUE, out), out[0]]).toEqual([1024, 1 - 2 ** -53]);
    expect([frexp(Number.MIN_VALUE, out), out[0]]).toEqual([-1073, 0.5]);
    expect([frexp(3 * 2 ** -1070, out), out[0]]).toEqual([-1068, 0.75]);
  });

  it('uses the boundaries of the Prometheus table', () => {
    // values as printed in client_golang's nativeHistogramBounds
    expect(boundsOf(1)[1]).toBe(0.7071067811865475);
    expect(boundsOf(2)[3]).toBe(0.8408964152537144);
    expect([...boundsOf(3)]).toEqual([
      0.5, 0.5452538663326288, 0.5946035575013605, 0.6484197773255048, 0.7071067811865475, 0.7711054127039704,
      0.8408964152537144, 0.9170040432046711,
    ]);
    expect(boundsOf(8)[255]).toBe(0.9972960560854698);
    expect(boundsOf(8)[201]).toBe(0.8616394738731368);
    expect(boundsOf(8).length).toBe(256);
  });

  it('schema 0: (2^(i-1), 2^i], powers of two on the upper bound', () => {
    expect(keyOf(1, 0)).toBe(0);
    expect(keyOf(next(1), 0)).toBe(1);
    expect(keyOf(2, 0)).toBe(1);
    expect(keyOf(3, 0)).toBe(2);
    expect(keyOf(4, 0)).toBe(2);
    expect(keyOf(0.5, 0)).toBe(-1);
    expect(keyOf(0.75, 0)).toBe(0);
    expect(keyOf(-3, 0)).toBe(2);
  });

  it('schema 3: a boundary value lands in the bucket it closes, the next float in the next one', () => {
    const b1 = 2 * (boundsOf(3)[1] as number); // 2^(1/8) as Prometheus has it
    expect(keyOf(1, 3)).toBe(0);
    expect(keyOf(next(1), 3)).toBe(1);
    expect(keyOf(b1, 3)).toBe(1);
    expect(keyOf(next(b1), 3)).toBe(2);
    expect(keyOf(prev(b1), 3)).toBe(1);
    expect(keyOf(2, 3)).toBe(8);
    expect(keyOf(1.5, 3)).toBe(5); // log2(1.5) * 8 = 4.68
    expect(keyOf(0.1, 3)).toBe(-26); // log2(0.1) * 8 = -26.58
    expect(upperBound(1, 3)).toBe(b1);
    expect(upperBound(8, 3)).toBe(2);
    expect(upperBound(-26, 3)).toBe(0.8408964152537144 / 8);
  });

  it('schema 8: 256 buckets per power of two', () => {
    expect(keyOf(2, 8)).toBe(256);
    expect(keyOf(next(2), 8)).toBe(257);
    const b = 2 * (boundsOf(8)[128] as number); // sqrt(2) as Prometheus has it
    expect(keyOf(b, 8)).toBe(128);
    expect(keyOf(next(b), 8)).toBe(129);
    expect(keyOf(Math.SQRT2, 8)).toBe(129); // one ulp above Prometheus' boundary
    expect(upperBound(128, 8)).toBe(b);
  });

  it('schema -4: each bucket spans a factor of 65536', () => {
    expect(keyOf(1, -4)).toBe(0);
    expect(keyOf(2 ** -16, -4)).toBe(-1);
    expect(keyOf(next(2 ** -16), -4)).toBe(0);
    expect(keyOf(65536, -4)).toBe(1);
    expect(keyOf(65537, -4)).toBe(2);
    expect(upperBound(1, -4)).toBe(65536);
    expect(upperBound(-1, -4)).toBe(2 ** -16);
  });

  it('puts ±Inf one bucket past the largest finite value, whose bucket ends at MAX_VALUE', () => {
    for (const s of [-4, 0, 3, 8]) {
      const last = keyOf(Number.MAX_VALUE, s);
      expect(keyOf(Number.POSITIVE_INFINITY, s)).toBe(last + 1);
      expect(keyOf(Number.NEGATIVE_INFINITY, s)).toBe(last + 1);
      expect(upperBound(last, s)).toBe(Number.MAX_VALUE);
      expect(upperBound(last + 1, s)).toBe(Number.POSITIVE_INFINITY);
    }
  });

  it('picks the schema with the largest factor not above the requested one', () => {
    expect(schemaForFactor(1.1)).toBe(3);
    expect(schemaForFactor(1.0905077326652577)).toBe(3);
    expect(schemaForFactor(prev(1.0905077326652577))).toBe(4);
    expect(schemaForFactor(2)).toBe(0);
    expect(schemaForFactor(1.5)).toBe(1);
    expect(schemaForFactor(4)).toBe(-1);
    expect(schemaForFactor(1e6)).toBe(-4);
    expect(schemaForFactor(1.0001)).toBe(8);
  });
});

describe('NativeSeries', () => {
  it('counts every observation exactly, NaN and ±Inf included', () => {
    const s = new NativeSeries(settings({ schema: 0 }));
    const values = [0.25, 1, 1, 3, -2, 0, 1e-40, Number.POSITIVE_INFINITY, 7, 0.5];
    for (const v of values) s.observe(v);
    expect(s.count).toBe(values.length);
    expect(s.sum).toBe(values.reduce((a, b) => a + b, 0));
    expect(s.zeroCount).toBe(2); // 0 and 1e-40 (below 2^-128)
    const last = keyOf(Number.MAX_VALUE, 0);
    expect(buckets(s)).toEqual({ [-2]: 1, [-1]: 1, 0: 2, 2: 1, 3: 1, [last + 1]: 1 });
    expect(buckets(s, 'negative')).toEqual({ 1: 1 });
    s.observe(Number.NaN);
    expect(s.count).toBe(values.length + 1);
    expect(s.sum).toBeNaN();
    expect(s.zeroCount + [...s.positive.values(), ...s.negative.values()].reduce((a, b) => a + b)).toBe(
      values.length,
    );
  });

  it('a zero threshold of 0 counts exact zeros only', () => {
    const s = new NativeSeries(settings({ schema: 0, zeroThreshold: 0 }));
    s.observe(0);
    s.observe(-0);
    s.observe(Number.MIN_VALUE);
    expect(s.zeroCount).toBe(2);
    expect(buckets(s)).toEqual({ [-1074]: 1 });
  });

  it('encodes spans and deltas as client_golang (gaps up to two buckets stay in the span)', () => {
    const m = new Map([
      [-3, 2],
      [-2, 1],
      [1, 4],
      [5, 1],
    ]);
    const { spans, deltas } = encodeBuckets(m);
    expect(spans).toEqual([
      { offset: -3, length: 5 },
      { offset: 3, length: 1 },
    ]);
    expect(deltas).toEqual([2, -1, -1, 0, 4, -3]);
    expect(decodeBuckets(spans, deltas)).toEqual(m);
  });

  it('halves the resolution past maxBuckets (no reset, no zero widening)', () => {
    const s = new NativeSeries(settings({ schema: 2, maxBuckets: 3 }));
    // schema 2 keys of 1, 1.25, 1.5, 2: 0, 2, 3, 4
    for (const v of [1, 1.25, 1.5]) s.observe(v);
    expect(s.schema).toBe(2);
    expect(buckets(s)).toEqual({ 0: 1, 2: 1, 3: 1 });
    s.observe(2); // a 4th bucket: schema 1, keys ceil(k/2): 0, 1, 2, 2
    expect(s.schema).toBe(1);
    expect(buckets(s)).toEqual({ 0: 1, 1: 1, 2: 2 });
    expect(s.count).toBe(4);
  });

  it('widens the zero bucket to the nearest bucket before halving, up to maxZeroThreshold', () => {
    const s = new NativeSeries(settings({ schema: 0, maxBuckets: 2, maxZeroThreshold: 0.5 }));
    s.observe(0.25); // key -2
    s.observe(-0.4); // negative key -1
    s.observe(3); // key 2: three buckets, widen: smallest key -2 -> threshold 0.25
    expect(s.zeroThreshold).toBe(0.25);
    expect(s.zeroCount).toBe(1);
    expect(buckets(s)).toEqual({ 2: 1 });
    expect(buckets(s, 'negative')).toEqual({ [-1]: 1 });
    s.observe(8); // key 3: widen to the upper bound of key -1 (0.5, allowed)
    expect(s.zeroThreshold).toBe(0.5);
    expect(s.zeroCount).toBe(2);
    s.observe(0.45); // in the zero bucket now
    expect(s.zeroCount).toBe(3);
    s.observe(100); // key 7: third bucket; 1 > maxZeroThreshold: halve instead
    expect(s.schema).toBe(-1);
    expect(buckets(s)).toEqual({ 1: 1, 2: 1, 4: 1 });
    expect(s.count).toBe(6);
  });

  it('resets when the last reset is old enough, keeping the latest observation', () => {
    let now = 0;
    const s = new NativeSeries(settings({ schema: 0, maxBuckets: 2, minResetMs: 1000, now: () => now }));
    s.observe(1);
    s.observe(2);
    now = 500;
    expect(s.observe(4)).toBe(false); // too early: halved instead
    expect(s.schema).toBe(-1);
    now = 1200; // the halving asked for a reset once minResetMs has passed: the next observation
    expect(s.observe(1)).toBe(true);
    expect(s.schema).toBe(0);
    expect(s.count).toBe(1);
    expect(buckets(s)).toEqual({ 0: 1 });
    expect(s.createdMs).toBe(1200);
    s.observe(2);
    now = 2300;
    expect(s.observe(4)).toBe(true); // over the limit, last reset 1100 ms ago: reset, keep 4
    expect(s.count).toBe(1);
    expect(s.sum).toBe(4);
    expect(buckets(s)).toEqual({ 2: 1 });
  });

  it('keeps at most maxExemplars, replacing the closest in value while they are fresh', () => {
    let now = 0;
    const s = new NativeSeries(settings({ maxExemplars: 3, exemplarTtlMs: 1000, now: () => now }));
    for (const v of [0.01, 1, 100]) {
      now += 10;
      s.observe(v, { trace_id: String(v) });
    }
    now += 10;
    s.observe(1.2, { trace_id: 'b' }); // replaces 1, its neighbour
    expect(s.exemplars?.map((e) => e.value)).toEqual([0.01, 1.2, 100]);
    now += 2000;
    s.observe(50, { trace_id: 'c' }); // the oldest (0.01) has expired: it goes
    expect(s.exemplars?.map((e) => e.value)).toEqual([1.2, 50, 100]);
    expect(s.snapshot().exemplars?.[1]).toEqual({ labels: { trace_id: 'c' }, value: 50, timestampMs: now });
  });

  it('snapshots copy the state', () => {
    const s = new NativeSeries(settings({ schema: 3 }));
    s.observe(1);
    s.observe(1);
    s.observe(2);
    const snap = s.snapshot();
    s.observe(1);
    expect(snap).toEqual({
      schema: 3,
      zeroThreshold: 2 ** -128,
      zeroCount: 0,
      count: 3,
      sum: 4,
      positiveSpans: [
        { offset: 0, length: 1 },
        { offset: 7, length: 1 },
      ],
      positiveDeltas: [2, -1],
      negativeSpans: [],
      negativeDeltas: [],
      createdTimestampMs: 1000,
    });
  });
});
