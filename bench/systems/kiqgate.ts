/** kiqgate (this repo): harness side. Runs once src/client and src/engine exist. */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { nodeSystem } from './node.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const built = () => existsSync(`${root}src/engine/index.ts`) && existsSync(`${root}src/client/index.ts`);

export const kiqgate = nodeSystem({
  name: 'kiqgate',
  driver: 'kiqgate-driver.ts',
  drainConcurrencies: [1, 10, 50],
  available: async () => (built() ? null : 'not built yet'),
  version: async () => {
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };
    return `${pkg.version} (working tree)`;
  },
});
