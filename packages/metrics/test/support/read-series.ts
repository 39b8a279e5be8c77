import type { Metrics } from '../../src/index.js';

type Value = { labels: Record<string, string | number>; value: number; metricName?: string };

const matches = (labels: Record<string, string | number>, want: Record<string, string>) =>
  Object.entries(want).every(([k, v]) => String(labels[k]) === v);

async function values(m: Metrics, name: string): Promise<Value[]> {
  const metric = m.registry.getSingleMetric(name) as unknown as
    | { get(): Promise<{ values: Value[] }> }
    | undefined;
  if (!metric) throw new Error(`${name} is not registered`);
  return (await metric.get()).values;
}

/** A histogram's count, sum and cumulative buckets for the series matching `labels` (summed). */
export async function histogram(m: Metrics, name: string, labels: Record<string, string> = {}) {
  const vs = (await values(m, name)).filter((v) => matches(v.labels, labels));
  let count = 0;
  let sum = 0;
  const buckets = new Map<string, number>();
  for (const v of vs) {
    if (v.metricName === `${name}_count`) count += v.value;
    else if (v.metricName === `${name}_sum`) sum += v.value;
    else if (v.metricName === `${name}_bucket`) {
      const le = String(v.labels.le);
      buckets.set(le, (buckets.get(le) ?? 0) + v.value);
    }
  }
  return { count, sum, buckets };
}

/** A counter's or gauge's value for the series matching `labels` (summed); undefined when none. */
export async function scalar(m: Metrics, name: string, labels: Record<string, string> = {}) {
  const vs = (await values(m, name)).filter((v) => matches(v.labels, labels));
  return vs.length === 0 ? undefined : vs.reduce((n, v) => n + v.value, 0);
}

/** Label sets of a metric's series. */
export async function labelSets(m: Metrics, name: string) {
  return (await values(m, name)).map((v) => v.labels);
}

/** A clock returning the given milliseconds in order (then the last one again). */
export function scriptedClock(...ticks: number[]): () => number {
  let i = 0;
  return () => {
    const t = ticks[Math.min(i, ticks.length - 1)] as number;
    i++;
    return t;
  };
}
