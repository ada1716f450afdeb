/** Bundles bench/profile/{drain,enqueue}.ts to bench/.build/profile-*.mjs (packages external). */
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

for (const name of ['drain', 'enqueue']) {
  buildSync({
    entryPoints: [fileURLToPath(new URL(`./${name}.ts`, import.meta.url))],
    bundle: true, packages: 'external', platform: 'node', format: 'esm', target: 'node20',
    outfile: fileURLToPath(new URL(`../.build/profile-${name}.mjs`, import.meta.url)), logLevel: 'error',
  });
}
