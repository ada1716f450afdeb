/**
 * A wrapper job's text with its run-own values (jids, Sidekiq timestamps, ActiveJob's job_id and
 * enqueued_at/scheduled_at) replaced by their form, so two pushes of the same job compare byte
 * for byte: key order, every argument's bytes, every other field's value.
 */
export function stableActiveJobText(payload: string): string {
  return payload
    .replace(/"(jid|provider_job_id)":"[0-9a-f]{24}"/g, '"$1":"<jid>"')
    .replace(/"(created_at|enqueued_at)":\d+(\.\d+)?/g, (_m, k: string, frac: string | undefined) => `"${k}":<${frac ? 'float' : 'int'}>`)
    .replace(/"job_id":"[0-9a-f-]{36}"/g, '"job_id":"<uuid>"')
    .replace(/"(enqueued_at|scheduled_at)":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"/g, (_m, k: string, frac: string | undefined) => `"${k}":"<iso${frac ? `.${frac.length - 1}` : ''}>"`);
}

/** Where two texts first differ, for a one-line report. */
export function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `at offset ${i}: peer ${JSON.stringify(a.slice(i, i + 40))}, kiqgate ${JSON.stringify(b.slice(i, i + 40))}`;
}
