/** kiqgate with `/metrics` on and scraped (kiqgate-metrics-driver.ts): the drain only, beside plain kiqgate. */
import { kiqgate } from './kiqgate.js';
import { nodeSystem } from './node.js';

export const kiqgateMetrics = nodeSystem({
  name: 'kiqgate-metrics',
  driver: 'kiqgate-metrics-driver.ts',
  drainConcurrencies: [50],
  workloads: ['drain'],
  available: () => kiqgate.available(),
  version: () => kiqgate.version(),
});
