#!/usr/bin/env node
// Calldock: smoke test of a running main + carrier pair (asterisk/provision.sh start ...).
//   node --experimental-websocket asterisk/smoke.mjs [MAIN_NAME] [CARRIER_NAME]
// Node 20 needs --experimental-websocket for the global WebSocket (Node >= 22 has it by default).
// Reads both instances' instance.env, pushes a trunk and a WebRTC endpoint on main with ARI push
// configuration, places calls both ways through the carrier, checks StasisStart arguments, MOH,
// playback and the no-ARI fallback, then removes what it pushed. Exit 0 = all good.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';

const ROOT = process.env.CALLDOCK_ASTERISK_ROOT ?? `${homedir()}/.cache/calldock/asterisk-root`;
const [mainName = 'main', carrierName = 'carrier'] = process.argv.slice(2);
const DID = '+15551230001';
const CALLER = '+15559876543';

if (typeof WebSocket === 'undefined') {
  console.error('no global WebSocket: run with node --experimental-websocket (Node 20)');
  process.exit(2);
}

function readEnv(name) {
  const env = {};
  for (const line of readFileSync(`${ROOT}/calldock/${name}/instance.env`, 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) env[line.slice(0, i)] = line.slice(i + 1);
  }
  return env;
}

function client(env, app) {
  const auth = 'Basic ' + Buffer.from(`${env.ARI_USER}:${env.ARI_PASSWORD}`).toString('base64');
  const events = [];
  const waiters = [];
  let ws;
  const api = {
    env,
    async req(method, path, body) {
      const res = await fetch(`${env.ARI_URL}/ari${path}`, {
        method,
        headers: { Authorization: auth, ...(body ? { 'Content-Type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(5000),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path} -> ${res.status} ${text}`);
      return text ? JSON.parse(text) : null;
    },
    connect() {
      return new Promise((resolve, reject) => {
        const u = `${env.ARI_URL.replace(/^http/, 'ws')}/ari/events?app=${app}` +
          `&api_key=${encodeURIComponent(`${env.ARI_USER}:${env.ARI_PASSWORD}`)}`;
        ws = new WebSocket(u);
        ws.onopen = () => resolve();
        ws.onerror = (e) => reject(new Error(`ws ${u}: ${e.message ?? 'error'}`));
        ws.onmessage = (m) => {
          const ev = JSON.parse(m.data);
          const w = waiters.find((x) => x.pred(ev));
          if (!w) return void events.push(ev);
          waiters.splice(waiters.indexOf(w), 1);
          clearTimeout(w.t);
          w.resolve(ev);
        };
      });
    },
    close() {
      return new Promise((resolve) => {
        if (!ws || ws.readyState === WebSocket.CLOSED) return resolve();
        ws.onclose = () => resolve();
        ws.close();
      });
    },
    wait(pred, what, ms = 5000) {
      const seen = events.find(pred);
      if (seen) { events.splice(events.indexOf(seen), 1); return Promise.resolve(seen); }
      return new Promise((resolve, reject) => {
        const w = { pred, resolve, t: setTimeout(() => reject(new Error(`timeout waiting for ${what} on ${app}`)), ms) };
        waiters.push(w);
      });
    },
    push(type, id, fields) {
      return api.req('PUT', `/asterisk/config/dynamic/res_pjsip/${type}/${id}`, {
        fields: Object.entries(fields).map(([attribute, value]) => ({ attribute, value })),
      });
    },
    unpush(type, id) {
      return api.req('DELETE', `/asterisk/config/dynamic/res_pjsip/${type}/${id}`).catch(() => {});
    },
  };
  return api;
}

const ok = (msg) => console.log(`ok   ${msg}`);
const main = client(readEnv(mainName), 'calldock');
const carrier = client(readEnv(carrierName), 'carrier');
const t0 = Date.now();
const calls = []; // [client, channel id] to hang up at the end, whatever happens
const track = (c, id) => (calls.push([c, id]), id);

try {
  await main.connect();
  await carrier.connect();
  await main.req('POST', `/asterisk/variable?variable=${encodeURIComponent(`FALLBACK_${DID}`)}&value=`);
  ok(`ARI event WebSockets connected (main ${main.env.ARI_URL}, carrier ${carrier.env.ARI_URL})`);

  // A trunk for the carrier, pushed at run time (the static pjsip.conf holds no tenant objects).
  await main.push('aor', 'test-trunk', { contact: `sip:127.0.0.1:${carrier.env.SIP_PORT}` });
  await main.push('endpoint', 'test-trunk', {
    transport: 'transport-udp', context: 'from-trunk', disallow: 'all', allow: 'ulaw',
    aors: 'test-trunk', rtp_symmetric: 'yes', direct_media: 'no',
  });
  await main.push('identify', 'test-trunk', { endpoint: 'test-trunk', match: '127.0.0.1' });
  ok('pushed trunk test-trunk (endpoint, aor, identify)');

  // A WebRTC agent endpoint as in ASTERISK.md.
  await main.push('auth', 't1-agent-1', { auth_type: 'userpass', username: 't1-agent-1', password: 'agent-secret-1' });
  await main.push('aor', 't1-agent-1', { max_contacts: '1', remove_existing: 'yes' });
  await main.push('endpoint', 't1-agent-1', {
    transport: 'transport-ws', context: 'from-webrtc', disallow: 'all', allow: 'opus,ulaw',
    webrtc: 'yes', direct_media: 'no', aors: 't1-agent-1', auth: 't1-agent-1',
    dtls_cert_file: main.env.DTLS_CERT_FILE, dtls_private_key: main.env.DTLS_PRIVATE_KEY,
  });
  const eps = await main.req('GET', '/endpoints');
  if (!eps.some((e) => e.technology === 'PJSIP' && e.resource === 't1-agent-1')) throw new Error('t1-agent-1 not in GET /endpoints');
  ok(`WebRTC endpoint t1-agent-1 listed by GET /endpoints (${eps.map((e) => e.resource).join(', ')})`);

  // Carrier -> main: the DID lands in Stasis(calldock,trunk,DID).
  const out = await carrier.req('POST', `/channels?endpoint=${encodeURIComponent(`PJSIP/${DID}@calldock`)}` +
    `&app=carrier&callerId=${encodeURIComponent(CALLER)}`);
  track(carrier, out.id);
  const start = await main.wait((e) => e.type === 'StasisStart', 'StasisStart');
  console.log('StasisStart on main:', JSON.stringify(start));
  if (JSON.stringify(start.args) !== JSON.stringify(['trunk', DID])) throw new Error(`args ${JSON.stringify(start.args)}`);
  if (start.channel.caller.number !== CALLER) throw new Error(`caller ${start.channel.caller.number}`);
  ok(`StasisStart args ${JSON.stringify(start.args)}, caller ${start.channel.caller.number}, endpoint ${start.channel.name}`);
  const inId = track(main, start.channel.id);

  await main.req('POST', `/channels/${inId}/answer`);
  await carrier.wait((e) => e.type === 'StasisStart' && e.channel.id === out.id, 'carrier StasisStart (answered)');
  ok('main answered; carrier leg up');

  const pb = await main.req('POST', `/channels/${inId}/play?media=sound:hello-world`);
  await main.wait((e) => e.type === 'PlaybackStarted' && e.playback.id === pb.id, 'PlaybackStarted');
  await main.wait((e) => e.type === 'PlaybackFinished' && e.playback.id === pb.id, 'PlaybackFinished', 8000);
  ok('sound:hello-world played to the end');
  for (const s of ['vm-goodbye', 'queue-thankyou', 'beep']) {
    const info = await main.req('GET', `/sounds/${s}`);
    if (!info.formats?.length) throw new Error(`sound ${s} has no formats`);
  }
  ok('sounds vm-goodbye, queue-thankyou, beep known to ARI');

  // Nothing is sent on an idle answered channel: RTP packets sent during MOH prove it is audible.
  const before = (await main.req('GET', `/channels/${inId}/rtp_statistics`)).txcount;
  await main.req('POST', `/channels/${inId}/moh`);
  await new Promise((r) => setTimeout(r, 1500));
  const during = (await main.req('GET', `/channels/${inId}/rtp_statistics`)).txcount;
  await main.req('DELETE', `/channels/${inId}/moh`);
  if (during - before < 50) throw new Error(`MOH sent only ${during - before} RTP packets in 1.5 s`);
  ok(`MOH plays: ${during - before} RTP packets in 1.5 s (50/s expected)`);

  await main.req('DELETE', `/channels/${inId}`);
  await main.wait((e) => e.type === 'StasisEnd' && e.channel.id === inId, 'StasisEnd');
  await carrier.wait((e) => e.type === 'StasisEnd' && e.channel.id === out.id, 'carrier StasisEnd');
  ok('hang-up seen on both sides');

  // Main -> carrier ("agent desk phone"): lands in the carrier's Stasis(carrier,EXTEN).
  const agentLeg = await main.req('POST', `/channels?endpoint=${encodeURIComponent('PJSIP/agent-phone-7@test-trunk')}&app=calldock`);
  track(main, agentLeg.id);
  const cs = await carrier.wait((e) => e.type === 'StasisStart' && e.channel.id !== out.id, 'carrier StasisStart (inbound)');
  if (JSON.stringify(cs.args) !== JSON.stringify(['agent-phone-7'])) throw new Error(`carrier args ${JSON.stringify(cs.args)}`);
  track(carrier, cs.channel.id);
  await carrier.req('POST', `/channels/${cs.channel.id}/answer`);
  await main.wait((e) => e.type === 'StasisStart' && e.channel.id === agentLeg.id, 'main StasisStart (agent answered)');
  ok(`main -> carrier call: carrier StasisStart args ${JSON.stringify(cs.args)}, answered`);
  await main.req('DELETE', `/channels/${agentLeg.id}`);
  await carrier.wait((e) => e.type === 'StasisEnd' && e.channel.id === cs.channel.id, 'carrier StasisEnd (agent leg)');

  // No ARI application: Stasis() fails, calldock-fallback answers and announces.
  await main.close();
  await new Promise((r) => setTimeout(r, 300));
  const fb = await carrier.req('POST', `/channels?endpoint=${encodeURIComponent(`PJSIP/${DID}@calldock`)}&app=carrier`);
  track(carrier, fb.id);
  await carrier.wait((e) => e.type === 'StasisStart' && e.channel.id === fb.id, 'fallback answer', 5000);
  await carrier.wait((e) => e.type === 'StasisEnd' && e.channel.id === fb.id, 'fallback hang-up after the announcement', 15000);
  ok('without the calldock ARI app the fallback answers, announces and hangs up');

  // ... and with a FALLBACK_<DID> global set, it dials that instead.
  await main.req('POST', `/asterisk/variable?variable=${encodeURIComponent(`FALLBACK_${DID}`)}` +
    `&value=${encodeURIComponent('PJSIP/fallback-desk@test-trunk')}`);
  const fb2 = await carrier.req('POST', `/channels?endpoint=${encodeURIComponent(`PJSIP/${DID}@calldock`)}&app=carrier`);
  track(carrier, fb2.id);
  const fbIn = await carrier.wait((e) => e.type === 'StasisStart' && e.channel.id !== fb2.id, 'fallback Dial to the carrier', 5000);
  if (JSON.stringify(fbIn.args) !== JSON.stringify(['fallback-desk'])) throw new Error(`fallback args ${JSON.stringify(fbIn.args)}`);
  await carrier.req('DELETE', `/channels/${fb2.id}`);
  await carrier.wait((e) => e.type === 'StasisEnd' && e.channel.id === fbIn.channel.id, 'fallback leg hang-up');
  await main.req('POST', `/asterisk/variable?variable=${encodeURIComponent(`FALLBACK_${DID}`)}&value=`);
  ok('with FALLBACK_<DID> set, the fallback dials it');
} catch (err) {
  console.error(`FAIL ${err.message}`);
  process.exitCode = 1;
} finally {
  for (const [c, id] of calls) await c.req('DELETE', `/channels/${id}`).catch(() => {});
  await main.req('POST', `/asterisk/variable?variable=${encodeURIComponent(`FALLBACK_${DID}`)}&value=`).catch(() => {});
  for (const [t, id] of [['identify', 'test-trunk'], ['endpoint', 'test-trunk'], ['aor', 'test-trunk'],
    ['endpoint', 't1-agent-1'], ['aor', 't1-agent-1'], ['auth', 't1-agent-1']]) await main.unpush(t, id);
  await main.close();
  await carrier.close();
  console.log(`${process.exitCode ? 'FAILED' : 'PASSED'} in ${Date.now() - t0} ms`);
}
