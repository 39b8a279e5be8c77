// From the packed tarball, in a fresh npm project, with the README's line beside @opentelemetry/sdk-node
// and auto-instrumentations-node (from the registry, the newest that fit this runtime): the install
// resolves without ERESOLVE, EBADENGINE or peer overrides, and a user who starts their own NodeSDK gets
// trace ids in the lines of our logger.
// Bounded: one pack, one npm install (npm's cache makes reruns fast), one app run.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageDir } from './helpers.js';

const run = promisify(execFile);
const INSTALL_TIMEOUT_MS = 240_000;
const dir = mkdtempSync(join(tmpdir(), 'deia-tracing-fresh-'));
let install: { stdout: string; stderr: string };

beforeAll(async () => {
  // Packs the dist/ that `pnpm test` builds first; rebuilding here would empty dist/ under the feet of
  // other test files that start processes resolving @deia/tracing through its exports.
  if (!existsSync(join(packageDir, 'dist/logger.js'))) {
    throw new Error('packages/tracing/dist is missing: run `pnpm run build` first.');
  }
  // async: a synchronous child process would block the test worker's RPC with vitest
  const packed = await run('pnpm', ['pack', '--pack-destination', dir], { cwd: packageDir, timeout: 60_000 });
  const tarball = packed.stdout.trim().split('\n').pop() as string;
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fresh', private: true, type: 'module' }));
  copyFileSync(join(packageDir, 'test/fixtures/own-sdk-app.mjs'), join(dir, 'app.mjs'));
  install = await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--ignore-scripts',
      tarball,
      // the README's line as a user types it: plain names, npm picks versions for this runtime
      // (scripts/matrix.mjs runs the same line on the other supported runtime)
      '@opentelemetry/api',
      'pino',
      '@opentelemetry/sdk-node',
      '@opentelemetry/auto-instrumentations-node',
    ],
    { cwd: dir, timeout: INSTALL_TIMEOUT_MS },
  );
}, INSTALL_TIMEOUT_MS + 150_000);
// async and with room: node_modules of a fresh install is large, and a sync rm would block the worker
afterAll(() => rm(dir, { recursive: true, force: true }), 120_000);

describe("@deia/tracing beside @opentelemetry/sdk-node, in a fresh project (the README's line)", () => {
  it('installs without ERESOLVE, EBADENGINE or overridden peers', () => {
    expect(`${install.stdout}${install.stderr}`).not.toMatch(
      /ERESOLVE|EBADENGINE|overriding peer|Could not resolve/i,
    );
  });

  it("puts the user's own NodeSDK trace ids in the logger's lines, without loading our SDK side", async () => {
    const { stdout } = await run(process.execPath, ['app.mjs'], { cwd: dir, timeout: 60_000 });
    const out = JSON.parse(stdout.trim().split('\n').pop() as string);
    expect(out.traceId).toMatch(/^[0-9a-f]{32}$/);
    const line = JSON.parse(out.line);
    expect(line).toMatchObject({
      service: 'own-sdk',
      trace_id: out.traceId,
      trace_flags: '01',
      message: 'handled',
    });
    expect(out.exemplar).toEqual({ trace_id: out.traceId });
    expect(out.ours).toEqual([]);
  }, 70_000);
});
