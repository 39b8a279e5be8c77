// Version matrix from the packed tarballs, in fresh projects, as users install them: packs
// @deia/metrics, health, express and fastify once, installs each dependency set into its own temp
// project with pnpm (shared store, offline first), and runs scripts/matrix-cell.mjs there. Every
// cell drives the same traffic and must (1) answer with the same statuses, (2) expose exactly the
// HTTP series and values of scripts/matrix-reference.prom (timing values masked, lines sorted) and
// (3) keep the fast recording path: no public inc()/observe() per request.
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
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const REFERENCE = join(root, 'scripts', 'matrix-reference.prom');
const update = process.argv.includes('--update');
const started = Date.now();
const PARALLEL = 2; // the machine's cores
const nodePkg = `node-${process.platform}-${process.arch}`; // Node's own binary, from the registry

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
    name: `Node 22 (${nodePkg}) with @prometheus-io/client and prom-client`,
    dependencies: {
      '@prometheus-io/client': '>=0.16.0 <1',
      'prom-client': '^15',
      express: 'latest',
      [nodePkg]: '^22',
    },
    node: ['node_modules', nodePkg, 'bin', 'node'],
    cells: [
      {
        framework: 'express',
        client: '@prometheus-io/client',
        expect: { node: /^v22\./, '@prometheus-io/client': /^0\./ },
      },
      { framework: 'express', client: 'prom-client', expect: { node: /^v22\./ } },
    ],
  },
];
const EXPECTED_STATUSES = [200, 200, 200, 200, 200, 500, 404, 200, 404, 200];

function run(cmd, args, cwd, timeoutMs) {
  return new Promise((resolvePromise, reject) => {
    execFile(
      cmd,
      args,
      {
        cwd,
        encoding: 'utf8',
        timeout: timeoutMs,
        maxBuffer: 32 * 1024 * 1024,
        env: { ...process.env, CI: 'true' },
      },
      (err, stdout, stderr) => {
        if (err) {
          err.message = `${cmd} ${args.join(' ')} (in ${cwd}) failed: ${err.message}\n${stdout}${stderr}`;
          reject(err);
        } else resolvePromise(stdout);
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
let failed = 0;
try {
  // 1. pack once
  const t0 = Date.now();
  const tarballs = {};
  const packed = await pool(['metrics', 'health', 'express', 'fastify'], PARALLEL, async (dir) => {
    const pkgDir = join(root, 'packages', dir);
    if (!existsSync(join(pkgDir, 'dist')))
      throw new Error(`packages/${dir} is not built: run pnpm run build first`);
    const name = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).name;
    const file = (await run('pnpm', ['pack', '--pack-destination', out], pkgDir, 60_000))
      .trim()
      .split('\n')
      .pop();
    tarballs[name] = `file:${file}`;
  });
  for (const p of packed) if (!p.ok) throw p.error;
  console.log(`ok   matrix: packed ${Object.keys(tarballs).join(', ')} (${seconds(t0)})`);

  // 2. one install per dependency set, then its cells; two sets at a time
  const reference =
    existsSync(REFERENCE) && !update ? readFileSync(REFERENCE, 'utf8').trimEnd().split('\n') : null;
  let first;
  const results = await pool(SETS, PARALLEL, async (set, i) => {
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
    const node = set.node ? join(dir, ...set.node) : process.execPath;
    const cells = [];
    for (const cell of set.cells) {
      const tc = Date.now();
      const stdout = await run(node, ['matrix-cell.mjs', cell.framework, cell.client], dir, 90_000);
      const result = JSON.parse(stdout.trim().split('\n').pop());
      cells.push({ ...cell, result, ran: seconds(tc) });
    }
    return { set, dir, installed, cells };
  });

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
      for (const [k, re] of Object.entries(cell.expect ?? {}))
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
