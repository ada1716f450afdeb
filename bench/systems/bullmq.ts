/** BullMQ (npm dev dependency): harness side. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { nodeSystem } from './node.js';

const require = createRequire(import.meta.url);

function bullmqVersion(): string | null {
  try {
    const pkgFile = require.resolve('bullmq/package.json');
    return (JSON.parse(readFileSync(pkgFile, 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

export const bullmq = nodeSystem({
  name: 'bullmq',
  driver: 'bullmq-driver.ts',
  drainConcurrencies: [1, 10, 50],
  available: async () => (bullmqVersion() ? null : 'not installed'),
  version: async () => bullmqVersion() ?? 'not installed',
});
