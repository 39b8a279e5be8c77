import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));
const pkg = (name: string) => src(`${name}/src/index.ts`);

// Tests run against the TypeScript sources; the publish check (scripts/check-publish.mjs)
// separately tests the built tarballs.
export default defineConfig({
  resolve: {
    // Exact-match regexes: a string key would also rewrite subpaths (`@deia/x/y` as `<x index.ts>/y`).
    alias: [
      { find: /^@deia\/options$/, replacement: pkg('options') },
      { find: /^@deia\/metrics\/adapter$/, replacement: src('metrics/src/adapter.ts') },
      { find: /^@deia\/metrics$/, replacement: pkg('metrics') },
      { find: /^@deia\/ops$/, replacement: pkg('ops') },
      { find: /^@deia\/health$/, replacement: pkg('health') },
      { find: /^@deia\/express$/, replacement: pkg('express') },
      { find: /^@deia\/fastify$/, replacement: pkg('fastify') },
      { find: /^@deia\/tracing\/logger$/, replacement: src('tracing/src/logger-entry.ts') },
      { find: /^@deia\/tracing\/spans$/, replacement: src('tracing/src/spans-entry.ts') },
      { find: /^@deia\/tracing$/, replacement: pkg('tracing') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
