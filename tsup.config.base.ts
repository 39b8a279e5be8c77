import { defineConfig, type Options } from 'tsup';

/** Shared build: ESM + CJS + .d.ts/.d.cts, one entry per public path. */
export function packageConfig(entry: Options['entry'] = ['src/index.ts'], extra: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node22', // the oldest supported runtime (engines.node)
    platform: 'node',
    shims: true,
    splitting: false,
    treeshake: true,
    ...extra,
  });
}
