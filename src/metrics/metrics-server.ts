/**
 * The HTTP endpoint Prometheus scrapes: `GET /metrics` refreshes the Redis-side gauges (one
 * pipeline) and answers with the registry in the text exposition format. Anything else is 404.
 * A scrape whose Redis read fails still answers (the counters), with the failure in
 * `kiqgate_metrics_scrape_error` set to 1, so a Redis outage shows on the dashboard.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Gauge } from 'prom-client';
import { redactText } from '../support/redact.js';
import type { WorkerMetrics } from './worker-metrics.js';

export interface MetricsServerOptions {
  port: number;
  host: string;
  redis: Redis;
  logger: Logger;
}

export class MetricsServer {
  private readonly server: Server;
  private readonly scrapeError: Gauge;

  constructor(private readonly metrics: WorkerMetrics, private readonly opts: MetricsServerOptions) {
    this.scrapeError = new Gauge({ name: 'kiqgate_metrics_scrape_error', help: '1 when the last scrape could not read Redis', registers: [metrics.registry] });
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' || path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
        return;
      }
      void this.answer().then(
        (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${redactText(String(err))}\n`),
      );
    });
  }

  private async answer(): Promise<string> {
    try {
      await this.metrics.refresh(this.opts.redis);
      this.scrapeError.set(0);
    } catch (err) {
      this.scrapeError.set(1);
      this.opts.logger.warn({ err: redactText((err as Error).message) }, 'metrics scrape could not read Redis');
    }
    return this.metrics.registry.metrics();
  }

  /** Listens; rejects when the port cannot be had (in use, not allowed). */
  start(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** The bound address (after start). */
  address(): AddressInfo | undefined {
    return (this.server.address() as AddressInfo | null) ?? undefined;
  }

  /** Stops listening and closes open scrape connections. */
  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
