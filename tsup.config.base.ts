import { defineConfig, type Options } from 'tsup';

/** Shared build: ESM + CJS + .d.ts/.d.cts, one entry per public path. */
export function packageConfig(entry: Options['entry'] = ['src/index.ts'], extra: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    // Source maps without the sources inside: each package ships its `src/` once instead of a copy
    // in every map (ESM and CJS), which was two thirds of a tarball. Stack traces with
    // --enable-source-maps still point at src/*.ts lines; the bundled @deia/options maps to a path
    // outside the package (its positions stay right, its text is not shipped).
    sourcemap: true,
    esbuildOptions(options) {
      options.sourcesContent = false;
    },
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
