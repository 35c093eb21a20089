/**
 * The PSTN as tests see it: the carrier instance places calls to DIDs on the Calldock PBX and
 * answers as agents' desk phones.
 *
 * On the PBX, one trunk (`test-carrier`) receives the carrier's calls. It is identified by a SIP
 * header rather than by source IP, because everything here comes from 127.0.0.1 and tests that
 * provision their own IP-matched trunks must not be confused with it (pjsip.conf checks header
 * identifies before IP ones).
 */
import type { AriPeer } from './ari-peer.ts';

export const TEST_TRUNK = 'test-carrier';
const HEADER = 'X-Calldock-Carrier';

async function push(main: AriPeer, type: string, id: string, fields: Record<string, string>): Promise<void> {
  await main.request('PUT', `/asterisk/config/dynamic/res_pjsip/${type}/${id}`, {}, {
    fields: Object.entries(fields).map(([attribute, value]) => ({ attribute, value })),
  });
}

/**
 * Creates the PBX side of the carrier trunk once. Pushing an object that exists merges into it
 * (lists are appended to), which would corrupt it, so an existing trunk is left alone.
 */
export async function ensureTestTrunk(main: AriPeer): Promise<void> {
  const exists = await main
    .request('GET', `/asterisk/config/dynamic/res_pjsip/identify/${TEST_TRUNK}`)
    .then(() => true)
    .catch(() => false);
  if (exists) return;
  await push(main, 'endpoint', TEST_TRUNK, {
    transport: 'transport-udp',
    context: 'from-trunk',
    disallow: 'all',
    allow: 'ulaw,alaw',
    rtp_symmetric: 'yes',
    direct_media: 'no',
  });
  await push(main, 'identify', TEST_TRUNK, { endpoint: TEST_TRUNK, match_header: `${HEADER}: test` });
}

/** Places a call from the carrier to a DID; returns the carrier-side channel id. */
export async function callDid(
  carrier: AriPeer,
  did: string,
  options: { from?: string; name?: string; timeoutSeconds?: number } = {},
): Promise<string> {
  const from = options.from ?? '+442071234567';
  const channel = await carrier.request<{ id: string }>('POST', '/channels', {
    endpoint: `PJSIP/${did}@calldock`,
    app: 'carrier',
    appArgs: 'pstn',
    callerId: `"${options.name ?? 'Test Caller'}" <${from}>`,
    timeout: String(options.timeoutSeconds ?? 15),
  }, { variables: { [`PJSIP_HEADER(add,${HEADER})`]: 'test' } });
  return channel.id;
}

/**
 * Pushes a UDP "desk phone" endpoint for an agent on the PBX whose contact is the carrier: when
 * the PBX calls it, the carrier's `carrier` app sees StasisStart with args [phoneName].
 */
export async function pushDeskPhone(
  main: AriPeer,
  asteriskId: string,
  carrierSipPort: number,
): Promise<void> {
  await push(main, 'aor', asteriskId, {
    contact: `sip:${asteriskId}@127.0.0.1:${carrierSipPort}`,
    max_contacts: '1',
  });
  await push(main, 'endpoint', asteriskId, {
    transport: 'transport-udp',
    context: 'from-internal',
    disallow: 'all',
    allow: 'ulaw,alaw',
    aors: asteriskId,
    rtp_symmetric: 'yes',
    direct_media: 'no',
  });
}

/**
 * Pushes a tenant trunk's PBX side whose far end is the carrier: calls out through it reach the
 * carrier's `carrier` app with the dialled number as the only argument. No identify: it never
 * claims inbound calls (the test trunk does).
 */
export async function pushTrunkToCarrier(main: AriPeer, asteriskId: string, carrierSipPort: number): Promise<void> {
  await push(main, 'aor', asteriskId, { contact: `sip:127.0.0.1:${carrierSipPort}` });
  await push(main, 'endpoint', asteriskId, {
    transport: 'transport-udp',
    context: 'from-trunk',
    disallow: 'all',
    allow: 'ulaw,alaw',
    aors: asteriskId,
    rtp_symmetric: 'yes',
    direct_media: 'no',
  });
}

/**
 * Dials from an agent's desk phone (on the carrier) into the PBX: the PBX identifies the phone by
 * its From user, so the call enters from-internal as that agent's. Returns the carrier-side channel.
 */
export async function dialFromPhone(carrier: AriPeer, phone: string, dialled: string): Promise<string> {
  const channel = await carrier.request<{ id: string }>('POST', '/channels', {
    endpoint: `PJSIP/${dialled}@calldock`,
    app: 'carrier',
    appArgs: 'dialling',
    callerId: `"Desk phone" <${phone}>`,
    timeout: '30',
  });
  return channel.id;
}

/** A SIP header of the INVITE that reached the carrier on `channelId` ('' when it had none). */
export async function sipHeader(carrier: AriPeer, channelId: string, name: string): Promise<string> {
  const res = await carrier
    .request<{ value: string }>('GET', `/channels/${channelId}/variable`, { variable: `PJSIP_HEADER(read,${name})` })
    .catch(() => ({ value: '' }));
  return res.value;
}
