import { DeiaMetricsError } from './errors.js';

/** Edit distance, for "did you mean" on unknown option names. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] as number;
      row[j] = Math.min(cur + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] as number;
}

function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 4;
  for (const k of known) {
    const d = distance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}

/**
 * Rejects option names that `where` does not know (a typo such as `cacheTTLMs` would otherwise be
 * ignored silently), naming the closest known one.
 */
export function rejectUnknownKeys(
  where: string,
  options: object,
  known: readonly string[],
  code = 'DEIA_METRICS_OPTIONS',
): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const near = closest(key, known);
    throw new DeiaMetricsError(
      code,
      `${where}: unknown option "${key}"${near ? ` (did you mean "${near}"?)` : ''}; known: ${known.join(', ')}.`,
    );
  }
}
