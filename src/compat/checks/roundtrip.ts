/**
 * Check 2, round trip: encoding a decoded job for its own dialect gives back the exact original
 * bytes (key order, number formatting, escapes, integers above 2^53, unicode).
 */
import { type DecodedJob, stringifyJson } from '../../wire/index.js';
import { activeJobTarget, decodeActiveJob, encodeArguments, isActiveJobWrapper } from '../../wire/activejob/index.js';
import { decodeAs, jobPayloads } from '../extract.js';
import { expectedPeer } from '../fixture.js';
import { type Check, Tally } from '../types.js';

/** ActiveJob: the arguments, decoded to handler values and written back, give the same bytes; else a reason. */
function activeJobRoundTrip(job: DecodedJob): string | undefined {
  try {
    const aj = decodeActiveJob(job);
    const written = stringifyJson(aj.hash.get('arguments') ?? []);
    // What a Rails 7.2+ writes (BigDecimalSerializer, time_zone) is written back by a target that has them.
    const again = stringifyJson(encodeArguments(aj.arguments, activeJobTarget('rails-8.1/sidekiq-7')));
    return again === written ? undefined : `arguments written back differ: Rails wrote ${written.slice(0, 80)}, kiqgate ${again.slice(0, 80)}`;
  } catch (err) {
    return `the ActiveJob hash does not decode: ${(err as Error).message}`;
  }
}

export const roundtripCheck: Check = async ({ fixture }) => {
  const peer = expectedPeer(fixture);
  const t = new Tally();
  for (const p of jobPayloads(fixture)) {
    let text: string;
    let job: DecodedJob;
    try {
      job = decodeAs(p.bytes, peer);
      text = stringifyJson(job.doc());
    } catch {
      continue; // not a job: the decode check judges it
    }
    if (isActiveJobWrapper(job.className)) {
      const why = activeJobRoundTrip(job);
      t.check(why === undefined, () => `${p.where}: ${why}`);
    }
    const again = Buffer.from(text, 'utf8');
    t.check(again.equals(p.bytes), () => {
      const orig = p.bytes.toString('utf8');
      let i = 0;
      while (i < orig.length && orig[i] === text[i]) i++;
      return `${p.where}: re-encoded bytes differ at offset ${i}: peer wrote ${JSON.stringify(orig.slice(i, i + 30))}, kiqgate wrote ${JSON.stringify(text.slice(i, i + 30))}`;
    });
  }
  return t.result('no decodable job payloads in this fixture');
};
