/**
 * Plain ARI REST for benchmarks and the chaos suite, which run outside vitest and configure an
 * Asterisk of their own: requests with a timeout, and pushing PJSIP objects.
 */
import type { AsteriskInstance } from './asterisk.ts';

export class AriRest {
  constructor(private readonly asterisk: AsteriskInstance) {}

  async request<T>(method: string, url: string, body?: unknown): Promise<T> {
    const auth = Buffer.from(`${this.asterisk.ariUser}:${this.asterisk.ariPassword}`).toString('base64');
    const res = await fetch(`${this.asterisk.ariUrl}/ari${url}`, {
      method,
      headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`ARI ${method} ${url}: ${res.status} ${await res.text()}`);
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Creates or replaces a res_pjsip object (endpoint, aor, identify…) at run time. */
  push(type: string, id: string, fields: Record<string, string>): Promise<unknown> {
    return this.request('PUT', `/asterisk/config/dynamic/res_pjsip/${type}/${id}`, {
      fields: Object.entries(fields).map(([attribute, value]) => ({ attribute, value })),
    });
  }
}
