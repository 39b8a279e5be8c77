// Upstream OpenTelemetry for side-by-side runs (bench) and the fresh-project test: installed with npm into
// a cache directory outside the repository, so the workspace lockfile stays free of them. Exports
// `upstreamDir(packages)`; run directly (`node bench/upstream.mjs`) to prepare the default set.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What the bench compares against: the current OpenTelemetry release line (kept in step with package.json). */
export const UPSTREAM = [
  '@opentelemetry/api@1.10.0',
  '@opentelemetry/sdk-node@0.301.0',
  '@opentelemetry/auto-instrumentations-node@0.82.0',
  '@opentelemetry/exporter-trace-otlp-proto@0.301.0',
];

/** A directory with `packages` installed (npm, from the registry), reused while the list is the same. */
export function upstreamDir(packages = UPSTREAM) {
  const key = createHash('sha256').update(packages.join(' ')).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), `deia-tracing-upstream-${key}`);
  if (existsSync(join(dir, '.complete'))) return dir;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'upstream', private: true }));
  execFileSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--loglevel=error', '--ignore-scripts', ...packages],
    { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000 },
  );
  writeFileSync(join(dir, '.complete'), packages.join('\n'));
  return dir;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(upstreamDir());
