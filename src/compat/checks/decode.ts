/**
 * Check 1, decode: every job payload in the fixture decodes, and the dialect detected is the
 * fixture's own (system and major version); a payload that is not JSON is recognized as such
 * (a WireError, never a crash or a wrong job).
 */
import { type Peer, WireError, dialectFor } from '../../wire/index.js';
import { decodeActiveJob, isActiveJobWrapper } from '../../wire/activejob/index.js';
import { producerPeer } from '../fixture.js';
import { decodeAs, jobPayloads } from '../extract.js';
import { type Check, Tally, notApplicable } from '../types.js';

/** True when the bytes are a JSON object that names a class and has args (so it must decode). */
function looksLikeJob(bytes: Buffer, peer: Peer): boolean {
  try {
    const v = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    // A runtime with its own reading (Resque) runs any object with a class (args splatted, or none).
    if (dialectFor(peer).read) return v !== null && typeof v === 'object' && !Array.isArray(v) && typeof v.class === 'string' && v.class !== '';
    return v !== null && typeof v === 'object' && typeof v.class === 'string' && (Array.isArray(v.args) || typeof v.args === 'string');
  } catch {
    return false;
  }
}

export const decodeCheck: Check = async ({ fixture }) => {
  const want = producerPeer(fixture);
  if (!want) return notApplicable(`kiqgate does not speak ${fixture.system} ${fixture.version}`);
  const t = new Tally();
  for (const p of jobPayloads(fixture)) {
    try {
      const job = decodeAs(p.bytes, want);
      // A detection's candidates are one runtime's versions that write the same hash.
      t.check(job.candidates.includes(want), () => `${p.where}: detected ${job.candidates.join('|')}, expected ${want} (${fixture.system} ${fixture.version})`);
      // ActiveJob: the hash inside the wrapper reads as Rails would read it.
      if (isActiveJobWrapper(job.className)) {
        try {
          decodeActiveJob(job);
          t.pass();
        } catch (err) {
          t.fail(`${p.where}: the ActiveJob hash does not decode: ${(err as Error).message}`);
        }
      }
    } catch (err) {
      if (!(err instanceof WireError)) t.fail(`${p.where}: decode threw ${(err as Error).name}: ${(err as Error).message}`);
      else t.check(!looksLikeJob(p.bytes, want), () => `${p.where}: a job payload was rejected: ${err.message}`);
    }
  }
  return t.result('no job payloads in this fixture');
};
