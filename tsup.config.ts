import { defineConfig } from 'tsup';

// ESM and CommonJS builds of the public API and the CLI, with type declarations.
export default defineConfig({
  entry: { index: 'src/index.ts', cli: 'src/cli/main.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  shims: true,
});
