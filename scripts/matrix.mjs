// Version matrix from the packed tarballs, in fresh projects, as users install them: packs every
// package once, installs each dependency set into its own temp project with pnpm (shared store,
// offline first), and runs scripts/matrix-cell.mjs there. Every cell drives the same traffic and
// must (1) answer with the same statuses, (2) expose exactly the HTTP series and values of
// scripts/matrix-reference.prom (timing values masked, lines sorted) and (3) keep the fast
// recording paths: no public inc()/observe() per request on any of the four HTTP series. Every cell
// runs on every supported runtime (scripts/runtime.mjs: Node 24 and Node 22 at the declared minimum,
// this process's node when it is one, else the registry's node-<platform>-<arch> package). On each
// runtime but this process's own (packages/tracing's fresh-project test covers that one), plain
// `npm install`, run by that runtime, installs every package README's install lines in one project
// and the tracing README's line beside @opentelemetry/sdk-node in another: no ERESOLVE, no
// EBADENGINE, every package loads, and the user's own NodeSDK trace ids reach our logger.
//
//   node scripts/matrix.mjs            run (after `pnpm run build`)
//   node scripts/matrix.mjs --update   rewrite the reference from the first cell's exposition
//   MATRIX_KEEP=1 ...                  keep the temp projects (their path is printed)
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { installLines } from './check-snippets.mjs';
import { nodeBinary, SUPPORTED_MAJORS } from './runtime.mjs';

const root = resolve(import.meta.dirname, '..');
const REFERENCE = join(root, 'scripts', 'matrix-reference.prom');
const update = process.argv.includes('--update');
const started = Date.now();
const PARALLEL = 2; // the machine's cores

/** Dependency sets: one fresh project and one install each; cells run in that project. */
const SETS = [
  {
    name: 'prom-client 15.0.0 + Express 4',
    dependencies: { 'prom-client': '15.0.0', express: '^4' },
    cells: [
      {
        framework: 'express',
        client: 'prom-client',
        expect: { 'prom-client': /^15\.0\.0$/, express: /^4\./ },
      },
    ],
  },
  {
    name: 'prom-client 15.1.0 + Express 5.1.0 on router 2.2.0',
    dependencies: { 'prom-client': '15.1.0', express: '5.1.0' },
    overrides: { router: '2.2.0' },
    cells: [
      {
        framework: 'express',
        client: 'prom-client',
        expect: { 'prom-client': /^15\.1\.0$/, express: /^5\.1\.0$/, router: /^2\.2\.0$/ },
      },
    ],
  },
  {
    name: 'newest prom-client 15, Express and Fastify 5',
    dependencies: { 'prom-client': '^15', express: 'latest', fastify: '^5' },
    cells: [
      { framework: 'express', client: 'prom-client', expect: { express: /^5\./ } },
      { framework: 'fastify', client: 'prom-client', expect: { fastify: /^5\./ } },
    ],
  },
  {
    name: 'Fastify 4',
    dependencies: { 'prom-client': '^15', fastify: '^4' },
    cells: [{ framework: 'fastify', client: 'prom-client', expect: { fastify: /^4\./ } }],
  },
  {
    name: '@prometheus-io/client and prom-client',
    dependencies: { '@prometheus-io/client': '>=0.16.0 <1', 'prom-client': '^15', express: 'latest' },
    cells: [
      {
        framework: 'express',
        client: '@prometheus-io/client',
        expect: { '@prometheus-io/client': /^0\./ },
      },
      { framework: 'express', client: 'prom-client' },
    ],
  },
];
const PACKED = ['metrics', 'health', 'express', 'fastify', 'tracing', 'ops'];
const readme = (dir) => readFileSync(join(root, 'packages', dir, 'README.md'), 'utf8');
// packages/tracing/README.md's "beside sdk-node" install line, as a user types it
const RECIPE_LINE = readme('tracing')
  .split('\n')
  .find((l) => /^npm install @deia\/tracing .*@opentelemetry\/sdk-node/.test(l));
if (!RECIPE_LINE)
  throw new Error(
    'packages/tracing/README.md: no `npm install @deia/tracing ... @opentelemetry/sdk-node` line',
  );
const RECIPE = RECIPE_LINE.split(/\s+/).slice(2);
// every other install line of the package READMEs (-D ones too), in one project
const README_LINES = [
  ...new Set(PACKED.flatMap((dir) => installLines(readme(dir).replace(RECIPE_LINE, '')))),
];
const EXPECTED_STATUSES = [200, 200, 200, 200, 200, 500, 404, 200, 404, 200];

function run(cmd, args, cwd, timeoutMs, env = {}) {
  return new Promise((resolvePromise, reject) => {
    execFile(
      cmd,
      args,
      {
        cwd,
        encoding: 'utf8',
        timeout: timeoutMs,
        maxBuffer: 32 * 1024 * 1024,
        env: { ...process.env, CI: 'true', ...env },
      },
      (err, stdout, stderr) => {
        if (err) {
          err.message = `${cmd} ${args.join(' ')} (in ${cwd}) failed: ${err.message}\n${stdout}${stderr}`;
          reject(err);
        } else resolvePromise({ stdout, stderr });
      },
    );
  });
}

/** Runs `fn` over `items`, at most `n` at a time, in order of the items. */
async function pool(items, n, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i).then(
        (value) => ({ ok: true, value }),
        (error) => ({ ok: false, error }),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return results;
}

const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;
const out = mkdtempSync(join(tmpdir(), 'deia-matrix-'));

/**
 * `npm install <specs>` (an `@deia/*` name stands for its tarball) in a fresh project `name`, with
 * npm running on `runtime`: npm picks versions whose engines fit the node it runs on, and warns
 * EBADENGINE when none does. Throws on ERESOLVE, EBADENGINE, an overridden peer or an unresolved
 * name; returns the project's directory and the installed version of a package.
 */
async function npmProject({ major, node }, name, specs, tarballs) {
  const dir = join(out, `${name}-node-${major}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), `{ "name": "${name}", "private": true, "type": "module" }\n`);
  const args = specs.map((s) => (s.startsWith('@deia/') ? tarballs[s] : s));
  // npm's own #! resolves `node` on PATH: that runtime runs npm and decides the versions
  const env = { PATH: `${dirname(node)}:${process.env.PATH}` };
  const { stdout, stderr } = await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', ...args],
    dir,
    300_000,
    env,
  );
  const bad = `${stdout}${stderr}`.match(/.*(?:ERESOLVE|EBADENGINE|overriding peer|Could not resolve).*/gi);
  if (bad) throw new Error(`npm install ${specs.join(' ')} on Node ${major}:\n${bad.join('\n')}`);
  const version = (pkg) =>
    JSON.parse(readFileSync(join(dir, 'node_modules', ...pkg.split('/'), 'package.json'), 'utf8')).version;
  return { dir, version };
}

/** The tracing README's sdk-node line on `runtime`, then the user's own-NodeSDK app there. */
async function recipe(runtime, tarballs) {
  const t = Date.now();
  const { dir, version } = await npmProject(runtime, 'recipe', RECIPE, tarballs);
  copyFileSync(
    join(root, 'packages', 'tracing', 'test', 'fixtures', 'own-sdk-app.mjs'),
    join(dir, 'app.mjs'),
  );
  const ran = await run(runtime.node, ['app.mjs'], dir, 60_000);
  const result = JSON.parse(ran.stdout.trim().split('\n').pop());
  if (!/^[0-9a-f]{32}$/.test(result.traceId) || JSON.parse(result.line).trace_id !== result.traceId)
    throw new Error(`own NodeSDK on Node ${runtime.major}: no trace id in the logger's line: ${ran.stdout}`);
  const others = RECIPE.filter((n) => !n.startsWith('@deia/'));
  return `sdk-node recipe on Node ${runtime.major}: npm install @deia/tracing ${others.map((n) => `${n}@${version(n)}`).join(' ')}: no ERESOLVE or EBADENGINE, own NodeSDK trace ids in our logger (${seconds(t)})`;
}

/** Every package README's install lines in one project on `runtime`; each package then loads there. */
async function readmeLines(runtime, tarballs) {
  const t = Date.now();
  const { dir } = await npmProject(runtime, 'readmes', README_LINES, tarballs);
  const deia = README_LINES.filter((n) => n.startsWith('@deia/'));
  const load = deia.map((n) => `await import('${n}');`).join(' ');
  await run(runtime.node, ['--input-type=module', '-e', load], dir, 60_000);
  return `README install lines on Node ${runtime.major} (${README_LINES.length} packages): no ERESOLVE or EBADENGINE, ${deia.join(', ')} load (${seconds(t)})`;
}
let failed = 0;
try {
  // 1. the supported runtimes, then pack once
  const t0 = Date.now();
  const runtimes = SUPPORTED_MAJORS.map((major) => ({ major, node: nodeBinary(major) }));
  const others = runtimes.filter((r) => r.node !== process.execPath);
  console.log(
    `ok   matrix: runtimes ${runtimes.map((r) => `Node ${r.major}${r.node === process.execPath ? ' (this process)' : ''}`).join(', ')} (${seconds(t0)})`,
  );
  const tarballs = {};
  const files = {}; // every packed package, for npm projects
  const packed = await pool(PACKED, PARALLEL, async (dir) => {
    const pkgDir = join(root, 'packages', dir);
    if (!existsSync(join(pkgDir, 'dist')))
      throw new Error(`packages/${dir} is not built: run pnpm run build first`);
    const name = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).name;
    const file = (await run('pnpm', ['pack', '--pack-destination', out], pkgDir, 60_000)).stdout
      .trim()
      .split('\n')
      .pop();
    files[name] = file;
    if (['metrics', 'health', 'express', 'fastify'].includes(dir)) tarballs[name] = `file:${file}`;
  });
  for (const p of packed) if (!p.ok) throw p.error;
  console.log(`ok   matrix: packed ${Object.keys(files).join(', ')} (${seconds(t0)})`);

  // 2. one install per dependency set, then its cells on every runtime
  const reference =
    existsSync(REFERENCE) && !update ? readFileSync(REFERENCE, 'utf8').trimEnd().split('\n') : null;
  let first;
  const runSet = async (set, i) => {
    const dir = join(out, `set-${i}`);
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'package.json'),
      `${JSON.stringify(
        {
          name: `deia-matrix-${i}`,
          private: true,
          type: 'module',
          dependencies: { ...tarballs, ...set.dependencies },
          // the @deia packages depend on each other by version: take those from the tarballs too
          pnpm: { overrides: { ...tarballs, ...set.overrides } },
        },
        null,
        2,
      )}\n`,
    );
    copyFileSync(join(root, 'scripts', 'matrix-cell.mjs'), join(dir, 'matrix-cell.mjs'));
    const t = Date.now();
    await run(
      'pnpm',
      [
        'install',
        '--prefer-offline',
        '--ignore-workspace',
        '--config.auto-install-peers=false',
        '--reporter=append-only',
      ],
      dir,
      300_000,
    );
    const installed = seconds(t);
    const cells = [];
    for (const cell of set.cells) {
      for (const { major, node } of runtimes) {
        const tc = Date.now();
        const { stdout } = await run(node, ['matrix-cell.mjs', cell.framework, cell.client], dir, 90_000);
        const result = JSON.parse(stdout.trim().split('\n').pop());
        const expect = { ...cell.expect, node: new RegExp(`^v${major}\\.`) };
        cells.push({ ...cell, expect, result, ran: seconds(tc) });
      }
    }
    return { set, dir, installed, cells };
  };
  // 3. the README install lines with plain npm on every other supported runtime; in one pool with
  // the sets, these longest jobs first, two jobs at a time
  const jobs = others.flatMap((runtime) => [
    { name: `sdk-node recipe on Node ${runtime.major}`, run: () => recipe(runtime, files) },
    { name: `README install lines on Node ${runtime.major}`, run: () => readmeLines(runtime, files) },
  ]);
  const everything = await pool(
    [...jobs.map((job) => job.run), ...SETS.map((set, i) => () => runSet(set, i))],
    PARALLEL,
    (fn) => fn(),
  );
  const installs = everything.slice(0, jobs.length);
  const results = everything.slice(jobs.length);
  for (const [i, r] of installs.entries()) {
    if (r.ok) console.log(`ok   matrix: ${r.value}`);
    else {
      failed++;
      console.error(`FAIL matrix: ${jobs[i].name}\n${r.error.message}`);
    }
  }
  for (const [i, r] of results.entries()) {
    const set = SETS[i];
    if (!r.ok) {
      failed++;
      console.error(`FAIL matrix: ${set.name}\n${r.error.message}`);
      continue;
    }
    for (const cell of r.value.cells) {
      const { versions, statuses, publicCalls, lines } = cell.result;
      const label = `${set.name}: ${cell.framework} + ${cell.client} (${Object.entries(versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')})`;
      const problems = [];
      for (const [k, re] of Object.entries(cell.expect))
        if (!re.test(versions[k] ?? '')) problems.push(`installed ${k} ${versions[k]}, expected ${re}`);
      if (JSON.stringify(statuses) !== JSON.stringify(EXPECTED_STATUSES))
        problems.push(`statuses ${statuses.join(',')}, expected ${EXPECTED_STATUSES.join(',')}`);
      // the two app-code calls made before the traffic, none per request
      if (publicCalls !== 2)
        problems.push(`fast path off: ${publicCalls} public inc()/observe() calls, expected 2`);
      const sorted = [...lines].sort();
      first ??= sorted;
      const want = reference ?? first;
      const missing = want.filter((l) => !sorted.includes(l));
      const extra = sorted.filter((l) => !want.includes(l));
      if (missing.length || extra.length)
        problems.push(
          `exposition differs from the reference:\n${missing.map((l) => `  - ${l}`).join('\n')}\n${extra.map((l) => `  + ${l}`).join('\n')}`,
        );
      if (problems.length) {
        failed++;
        console.error(`FAIL matrix: ${label}\n  ${problems.join('\n  ')}`);
      } else {
        console.log(
          `ok   matrix: ${label}: ${lines.filter((l) => !l.startsWith('#')).length} samples = reference, fast path (install ${r.value.installed}, cell ${cell.ran})`,
        );
      }
    }
  }
  if (update && first) {
    writeFileSync(REFERENCE, `${first.join('\n')}\n`);
    console.log(`ok   matrix: wrote ${REFERENCE.slice(root.length + 1)}`);
  }
} catch (err) {
  failed++;
  console.error(`FAIL matrix\n${err.stack ?? err.message}`);
} finally {
  if (process.env.MATRIX_KEEP) console.log(`matrix: projects kept in ${out}`);
  else rmSync(out, { recursive: true, force: true });
}
console.log(
  `matrix: ${failed ? `${failed} failure(s)` : 'every cell matches the reference'} (${seconds(started)} wall)`,
);
process.exit(failed ? 1 : 0);
