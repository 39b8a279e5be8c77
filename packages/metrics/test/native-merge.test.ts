import { describe, expect, it } from 'vitest';
import type { NativeHistogramSnapshot } from '../src/native-contract.js';
import { decodeBuckets, NativeSeries, type NativeSettings } from '../src/native-histogram.js';
import { addNative, mergedNativeSource } from '../src/native-merge.js';

const series = (o: Partial<NativeSettings>, values: number[]): NativeHistogramSnapshot => {
  const s = new NativeSeries({
    schema: 0,
    zeroThreshold: 2 ** -128,
    maxBuckets: 0,
    minResetMs: 0,
    maxZeroThreshold: 0,
    maxExemplars: 10,
    exemplarTtlMs: 1000,
    now: () => 5,
    ...o,
  });
  for (const v of values) s.observe(v);
  return s.snapshot();
};
const bucketsOf = (s: NativeHistogramSnapshot, side: 'positive' | 'negative' = 'positive') =>
  Object.fromEntries([...decodeBuckets(s[`${side}Spans`], s[`${side}Deltas`])].sort(([a], [b]) => a - b));

describe('adding native histograms', () => {
  it('reduces to the lower schema, then adds', () => {
    const a = series({ schema: 3 }, [1, 1.1, 2, 3, -1.5]); // keys 0, 2, 8, 13; negative 5
    const b = series({ schema: 1 }, [1.2, 4, -0.6]); // keys 1, 4; negative -1 (0.6 in (0.5, 0.71])
    const sum = addNative(a, b);
    expect(sum.schema).toBe(1);
    // schema 3 -> 1: key k -> floor((k - 1) / 4) + 1: 0 -> 0, 2 -> 1, 8 -> 2, 13 -> 4, 5 -> 2
    expect(bucketsOf(sum)).toEqual({ 0: 1, 1: 2, 2: 1, 4: 2 });
    expect(bucketsOf(sum, 'negative')).toEqual({ [-1]: 1, 2: 1 });
    expect(sum.count).toBe(8);
    expect(sum.sum).toBe(a.sum + b.sum);
    expect(addNative(b, a)).toEqual(sum);
  });

  it('a wider zero bucket absorbs the buckets below it, and widens to a populated bucket it cuts', () => {
    const a = series({ schema: 0 }, [0.3, 0.1, 5]); // 0.3 in (0.25, 0.5], 0.1 in (0.0625, 0.125]
    const b = series({ schema: 0, zeroThreshold: 0.4 }, [0.2, 0.7]); // 0.2 in the zero bucket
    const sum = addNative(a, b);
    // 0.4 falls inside a's populated (0.25, 0.5]: the threshold moves to 0.5, both absorbed
    expect(sum.zeroThreshold).toBe(0.5);
    expect(sum.zeroCount).toBe(3);
    expect(bucketsOf(sum)).toEqual({ 0: 1, 3: 1 });
    expect(sum.count).toBe(5);
  });

  it('merges a family per label set across processes', () => {
    const one = { name: 'h', series: [{ labels: { a: '1' }, native: series({}, [1]) }] };
    const two = {
      name: 'h',
      series: [
        { labels: { a: '1' }, native: series({}, [2]) },
        { labels: { a: '2' }, native: series({}, [4]) },
      ],
    };
    const f = mergedNativeSource([[one], [two]]).nativeFamily('h');
    expect(f?.series.map((s) => [s.labels.a, s.native.count])).toEqual([
      ['1', 2],
      ['2', 1],
    ]);
    expect(mergedNativeSource([[one]]).nativeFamily('other')).toBeUndefined();
  });
});
