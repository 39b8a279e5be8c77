import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const pkg = (name: string) => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

// Tests run against the TypeScript sources; the publish check (scripts/check-publish.mjs)
// separately tests the built tarballs.
export default defineConfig({
  resolve: {
    alias: {
      '@deia/metrics': pkg('metrics'),
      '@deia/health': pkg('health'),
      '@deia/express': pkg('express'),
      '@deia/fastify': pkg('fastify'),
      '@deia/tracing': pkg('tracing'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
