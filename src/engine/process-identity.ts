/**
 * The Sidekiq process identity, `<hostname>:<pid>:<12 hex>`, made the way Sidekiq's launcher
 * makes it (`"#{ENV['DYNO'] || Socket.gethostname}:#{::Process.pid}:#{SecureRandom.hex(6)}"`),
 * so the Web UI and `Sidekiq::ProcessSet` show a kiqgate process like any other. The random
 * part keeps two processes with the same pid (containers) apart.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** The host name Sidekiq reports: `$DYNO` on Heroku, else the machine's host name. */
export function processHostname(): string {
  const dyno = process.env.DYNO;
  return dyno !== undefined && dyno !== '' ? dyno : hostname();
}

/** A new process identity, e.g. `vm:11357:f04e5e365e08`. */
export function processIdentity(host = processHostname(), pid = process.pid): string {
  return `${host}:${pid}:${randomBytes(6).toString('hex')}`;
}
