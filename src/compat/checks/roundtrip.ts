/**
 * Check 2, round trip: encoding a decoded job for its own dialect gives back the exact original
 * bytes (key order, number formatting, escapes, integers above 2^53, unicode).
 */
import { stringifyJson } from '../../wire/index.js';
import { decodeAs, jobPayloads } from '../extract.js';
import { expectedPeer } from '../fixture.js';
import { type Check, Tally } from '../types.js';

export const roundtripCheck: Check = async ({ fixture }) => {
  const peer = expectedPeer(fixture);
  const t = new Tally();
  for (const p of jobPayloads(fixture)) {
    let text: string;
    try {
      text = stringifyJson(decodeAs(p.bytes, peer).doc());
    } catch {
      continue; // not a job: the decode check judges it
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
