/**
 * kiqgate with Prometheus metrics on (issue 18: the c50 drain within 5 % of metrics off): the
 * same worker as kiqgate-driver.ts with `metricsPort` (a free port on loopback), scraped once a
 * second while it runs, as a Prometheus with a short interval would (each scrape one Redis
 * pipeline and the text rendering, on the worker's event loop).
 */
import { get } from 'node:http';
import { variantDriver } from './kiqgate-driver.js';

export const driver = variantDriver({
  options: { metricsPort: 0, metricsHost: '127.0.0.1' },
  beside(worker) {
    const port = worker.metricsAddress()?.port;
    if (port === undefined) throw new Error('kiqgate-metrics: the worker serves no metrics');
    // node:http, not fetch: undici would add its own load (~30 MB RSS) to the worker's figures.
    const timer = setInterval(() => {
      get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => res.resume()).on('error', () => undefined);
    }, 1000);
    return () => clearInterval(timer);
  },
});
