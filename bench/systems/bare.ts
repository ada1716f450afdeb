/** The bare ioredis baseline ("ideal client"): harness side. */
import { nodeSystem } from './node.js';

export const bare = nodeSystem({
  name: 'bare',
  driver: 'bare-driver.ts',
  drainConcurrencies: [1, 10, 50],
  available: async () => null,
  version: async () => 'ioredis pipelined LMOVE/LREM',
});
