import { defineConfig, type Options } from 'tsup';

/** Shared build: ESM + CJS + .d.ts/.d.cts, one entry per public path. */
export function packageConfig(entry: Options['entry'] = ['src/index.ts'], extra: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    sourcemap: true,
    clean: true,
    target: 'node22', // the oldest supported runtime (engines.node)
    platform: 'node',
    shims: true,
    splitting: false,
    treeshake: true,
    // The options contract is a private workspace package: bundled into each published package (code
    // and, where a public type names it, declarations), never a dependency users install.
    noExternal: ['@deia/options'],
    dts: { resolve: ['@deia/options'], compilerOptions: { paths: {} } },
    ...extra,
  });
}
