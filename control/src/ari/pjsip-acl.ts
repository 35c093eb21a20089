/**
 * PJSIP `acl` objects pushed at run time (`/ari/asterisk/config/dynamic/res_pjsip/acl/{id}`,
 * sorcery `memory` wizard; sorcery.conf maps the type in its own `[acl]` section).
 *
 * What res_pjsip_acl in Asterisk 22 does with them, measured on a real instance:
 * - every incoming request is checked against every `acl` object, read from sorcery each time:
 *   a pushed or deleted object takes effect on the next request, with no reload;
 * - the check runs before endpoint identification and authentication; a source that fails it
 *   gets a stateless 403 and raises no further security events;
 * - an object holding only `deny=ADDR` refuses ADDR and lets everything else through, so one
 *   object per blocked address can be created and deleted on its own;
 * - ARI cannot render an acl object back: GET and a successful PUT both answer 500
 *   "Allocation failed" (a missing object is a 404, a bad address a 400 and nothing is stored);
 * - a PUT on an existing object merges into it: create and delete, never update.
 * A value res_pjsip_acl cannot parse makes it deny *all* traffic for that object, so only
 * addresses checked with `isIP` are pushed.
 */
import { isIP } from 'node:net';
import { AriHttpError, type AriConnection } from './connection.ts';

const aclPath = (id: string) => `/asterisk/config/dynamic/res_pjsip/acl/${encodeURIComponent(id)}`;

/** Asterisk's answer when it holds the object but cannot turn it into JSON. */
const isUnrenderable = (err: unknown) =>
  err instanceof AriHttpError && err.status === 500 && /allocation failed/i.test(err.reason);

export class PjsipAcl {
  constructor(private readonly ari: AriConnection) {}

  /** True when Asterisk holds an acl object with this id. */
  async exists(id: string): Promise<boolean> {
    try {
      await this.ari.request('GET', aclPath(id));
      return true;
    } catch (err) {
      if (err instanceof AriHttpError && err.status === 404) return false;
      if (isUnrenderable(err)) return true;
      throw err;
    }
  }

  /** Creates an acl object refusing every request from `ip`. */
  async denyAddress(id: string, ip: string): Promise<void> {
    if (isIP(ip) === 0) throw new Error(`refusing to push "${ip}": not an IP address`);
    try {
      await this.ari.request('PUT', aclPath(id), {
        body: { fields: [{ attribute: 'deny', value: ip }] },
      });
    } catch (err) {
      // Stored, but not renderable: confirm it is there rather than trust the 500.
      if (!isUnrenderable(err) || !(await this.exists(id))) throw err;
    }
  }

  /** False when there was nothing to delete. */
  async remove(id: string): Promise<boolean> {
    try {
      await this.ari.request('DELETE', aclPath(id));
      return true;
    } catch (err) {
      if (err instanceof AriHttpError && err.status === 404) return false;
      throw err;
    }
  }
}
