// Test-only rewrites of generated ops files, for what the generator's options do not cover:
// compressing time so that alerts written for minutes fire and resolve within seconds.

const UNIT_SECONDS: Record<string, number> = {
  ms: 0.001,
  s: 1,
  m: 60,
  h: 3600,
  d: 86_400,
  w: 604_800,
  y: 31_536_000,
};

/** Parses a Prometheus duration (`90s`, `5m`, `1h30m`, `3d`) into seconds. */
export function parseDuration(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new Error(`not a Prometheus duration: ${JSON.stringify(text)}`);
  }
  return parts.reduce(
    (total, [, value, unit]) => total + Number(value) * (UNIT_SECONDS[unit ?? 's'] ?? 1),
    0,
  );
}

/** Formats seconds as a Prometheus duration in whole seconds (at least `min`). */
export function formatSeconds(seconds: number, min = 1): string {
  return `${Math.max(min, Math.round(seconds))}s`;
}

/**
 * Divides every range selector, subquery range and `offset` in PromQL-bearing text (`[5m]`,
 * `[1h:1m]`, `offset 10m`) by `factor`, with a floor of `minSeconds` so `rate()` still sees
 * several 1 s scrapes. Offsets and ranges shrink together, so `increase(x[10m]) and x offset 10m`
 * keeps its meaning.
 */
export function compressRanges(text: string, factor: number, minSeconds = 10): string {
  const duration = '\\d+(?:ms|s|m|h|d|w|y)(?:\\d+(?:ms|s|m|h|d|w|y))*';
  return text
    .replace(
      new RegExp(`\\[(${duration})(?::(${duration}))?\\]`, 'g'),
      (_all, range: string, step: string | undefined) => {
        const compressed = formatSeconds(parseDuration(range) / factor, minSeconds);
        return step === undefined ? `[${compressed}]` : `[${compressed}:1s]`;
      },
    )
    .replace(
      new RegExp(`\\boffset\\s+(${duration})\\b`, 'g'),
      (_all, offset: string) => `offset ${formatSeconds(parseDuration(offset) / factor, minSeconds)}`,
    );
}

/** Sets every `key: <duration>` YAML entry (any indentation) whose key is in `keys` to `value`. */
export function setYamlDurations(text: string, keys: readonly string[], value: string): string {
  const pattern = new RegExp(`^(\\s*-?\\s*)(${keys.join('|')}):\\s*["']?[0-9a-z.]+["']?\\s*$`, 'gm');
  return text.replace(pattern, (_all, indent: string, key: string) => `${indent}${key}: ${value}`);
}

/** Replaces `for:` durations in a rules file with at most `maxSeconds` (scaled by `factor`). */
export function shortenFor(text: string, factor: number, maxSeconds: number): string {
  return text.replace(
    /^(\s*)for:\s*["']?([0-9a-z.]+)["']?\s*$/gm,
    (_all, indent: string, duration: string) => {
      const seconds = Math.min(maxSeconds, parseDuration(duration) / factor);
      return `${indent}for: ${formatSeconds(seconds)}`;
    },
  );
}
