/** Bundles bench/profile/drain.ts to bench/.build/profile-drain.mjs (packages external). */
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

buildSync({
  entryPoints: [fileURLToPath(new URL('./drain.ts', import.meta.url))],
  bundle: true, packages: 'external', platform: 'node', format: 'esm', target: 'node20',
  outfile: fileURLToPath(new URL('../.build/profile-drain.mjs', import.meta.url)), logLevel: 'error',
});
