// Cold `import` time of this package's built entries against importing pino alone, each in a fresh
// Node process (median of N, interleaved). Run after `pnpm run build`:
//   node bench/import-time.mjs [runs]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 9);
const dir = fileURLToPath(new URL('..', import.meta.url));
const targets = [
  ['pino', 'pino'],
  ['@opentelemetry/api + pino', ['@opentelemetry/api', 'pino']],
  ['@deia/tracing/logger', './dist/logger.js'],
  ['@deia/tracing (main)', './dist/index.js'],
].filter(
  ([, spec]) =>
    typeof spec !== 'string' ||
    !spec.startsWith('./') ||
    existsSync(new URL(`../${spec.slice(2)}`, import.meta.url)),
);

const once = (specs) => {
  const list = JSON.stringify([specs].flat());
  const code = `const t = performance.now(); for (const s of ${list}) await import(s); process.stdout.write(String(performance.now() - t));`;
  return Number(
    execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: dir, encoding: 'utf8' }),
  );
};
const samples = new Map(targets.map(([name]) => [name, []]));
for (let i = 0; i < runs; i++) for (const [name, spec] of targets) samples.get(name).push(once(spec));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [name, xs] of samples)
  console.log(`${name.padEnd(28)} ${median(xs).toFixed(0).padStart(6)} ms (median of ${runs})`);
