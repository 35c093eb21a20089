/**
 * What Asterisk must hold for one Calldock endpoint: its PJSIP auth, aor, endpoint, identify and
 * registration objects, all under the endpoint's Asterisk id (`t42-agent-7`, `t42-trunk-3`).
 * Pure functions of the database row, so a create, a change, a delete and the re-push after a
 * restart all push exactly the same thing.
 */
import type { PjsipObject } from '../../ari/push-config.ts';
import type { EndpointRow } from './repository.ts';

/** Channel variables set on every call of an endpoint, so the call engine can attribute it. */
export enum EndpointVar {
  Tenant = 'CALLDOCK_TENANT',
  Endpoint = 'CALLDOCK_ENDPOINT',
  User = 'CALLDOCK_USER',
}

/** Asterisk ids Calldock's endpoints module owns; the re-push removes strays of these only. */
export const OWNED_ASTERISK_ID = /^t\d+-(agent|trunk)-\d+$/;

export const agentAsteriskId = (tenantId: number, userId: number) => `t${tenantId}-agent-${userId}`;
export const trunkAsteriskId = (tenantId: number, id: number) => `t${tenantId}-trunk-${id}`;

/**
 * A trunk's carrier/registrar contact is qualified (SIP OPTIONS) this often, so its state reads
 * online/offline. Asterisk sends the first one at a random moment within the period.
 */
const TRUNK_QUALIFY_SECONDS = '30';

type Fields = Array<readonly [string, string]>;

/** `"Ann Smith" <1001>`, or the name alone without an extension: what the other side sees. */
function agentCallerId(row: EndpointRow): string {
  const name = (row.userDisplayName ?? row.name).replace(/["<>\\]/g, '').trim();
  return row.userExtension ? `"${name}" <${row.userExtension}>` : `"${name}"`;
}

function uriHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function channelVars(row: EndpointRow): Fields {
  const vars: Fields = [
    ['set_var', `${EndpointVar.Tenant}=${row.tenantId}`],
    ['set_var', `${EndpointVar.Endpoint}=${row.id}`],
  ];
  if (row.userId !== null) vars.push(['set_var', `${EndpointVar.User}=${row.userId}`]);
  return vars;
}

function agentObjects(row: EndpointRow): PjsipObject[] {
  const id = row.asteriskId;
  const auth: PjsipObject = {
    type: 'auth',
    id,
    fields: [
      ['auth_type', 'userpass'],
      ['username', row.sipUsername ?? id],
      ['password', row.sipSecret ?? ''],
    ],
  };
  // One registration per agent: a console logging in elsewhere replaces the old one.
  const aorFields: Fields = [
    ['max_contacts', '1'],
    ['remove_existing', 'yes'],
  ];
  if (row.contact) aorFields.push(['contact', row.contact]);
  const common: Fields = [
    ['disallow', 'all'],
    ['allow', row.codecs],
    ['direct_media', 'no'],
    ['aors', id],
    ['auth', id],
    ['callerid', agentCallerId(row)],
    ...channelVars(row),
  ];
  const endpointFields: Fields =
    row.transport === 'udp'
      ? [
          ['transport', 'transport-udp'],
          ['context', 'from-internal'],
          ['rtp_symmetric', 'yes'],
          ['force_rport', 'yes'],
          ['rewrite_contact', 'yes'],
          ...common,
        ]
      : [
          ['transport', 'transport-ws'],
          ['context', 'from-webrtc'],
          // DTLS with an auto-generated certificate, ICE, AVPF and rtcp-mux: no files needed.
          ['webrtc', 'yes'],
          ...common,
        ];
  return [
    auth,
    { type: 'aor', id, fields: aorFields },
    { type: 'endpoint', id, fields: endpointFields },
  ];
}

function trunkObjects(row: EndpointRow): PjsipObject[] {
  const id = row.asteriskId;
  const host = uriHost(row.host ?? '');
  const hostPort = `${host}:${row.port ?? 5060}`;
  const objects: PjsipObject[] = [];
  const register = row.trunkAuth === 'register';
  if (register) {
    objects.push({
      type: 'auth',
      id,
      fields: [
        ['auth_type', 'userpass'],
        ['username', row.sipUsername ?? ''],
        ['password', row.sipSecret ?? ''],
      ],
    });
  }
  objects.push({
    type: 'aor',
    id,
    fields: [
      ['contact', `sip:${hostPort}`],
      ['qualify_frequency', TRUNK_QUALIFY_SECONDS],
    ],
  });
  const endpointFields: Fields = [
    ['transport', 'transport-udp'],
    ['context', 'from-trunk'],
    ['disallow', 'all'],
    ['allow', row.codecs],
    ['direct_media', 'no'],
    ['rtp_symmetric', 'yes'],
    ['force_rport', 'yes'],
    ['aors', id],
  ];
  if (register) endpointFields.push(['outbound_auth', id]);
  // The other policies are applied per call by the call engine; a fixed number is also the
  // default Asterisk uses when a call sets none.
  if (row.callerIdPolicy === 'fixed' && row.callerIdNumber) {
    endpointFields.push(['callerid', row.callerIdNumber]);
  }
  endpointFields.push(...channelVars(row));
  objects.push({ type: 'endpoint', id, fields: endpointFields });
  if (row.matchIps) {
    objects.push({
      type: 'identify',
      id,
      fields: [
        ['endpoint', id],
        ['match', row.matchIps],
      ],
    });
  }
  if (register) {
    objects.push({
      type: 'registration',
      id,
      fields: [
        ['transport', 'transport-udp'],
        ['server_uri', `sip:${hostPort}`],
        ['client_uri', `sip:${row.sipUsername ?? ''}@${hostPort}`],
        ['contact_user', row.sipUsername ?? ''],
        ['outbound_auth', id],
        // The carrier's INVITEs to the registered contact carry ;line=..., which Asterisk maps
        // back to this endpoint: inbound calls are identified without knowing the carrier's IPs.
        ['line', 'yes'],
        ['endpoint', id],
        ['expiration', '3600'],
        ['retry_interval', '60'],
        ['forbidden_retry_interval', '300'],
        ['max_retries', '10000'],
      ],
    });
  }
  return objects;
}

/** Whether Asterisk holds the endpoint: enabled, and not the phone of a disabled user. */
export function isLive(row: EndpointRow): boolean {
  return Boolean(row.enabled) && row.userStatus !== 'disabled';
}

/** The objects to push for `row`; none when it is not live. */
export function pjsipObjects(row: EndpointRow): PjsipObject[] {
  if (!isLive(row)) return [];
  return row.kind === 'agent' ? agentObjects(row) : trunkObjects(row);
}
