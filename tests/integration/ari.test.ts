import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AriEvent, CallOrigin, type StasisStartEvent } from '../../control/src/ari/events.ts';
import { AriPeer } from '../support/ari-peer.ts';
import { buildTestApp } from '../support/app.ts';
import { TEST_TRUNK, callDid, ensureTestTrunk } from '../support/carrier.ts';

type App = Awaited<ReturnType<typeof buildTestApp>>;

describe('the control plane on the real Asterisk', () => {
  let app: App;
  let carrier: AriPeer;

  beforeAll(async () => {
    app = await buildTestApp({}, { telephony: true });
    await app.ari.waitUntilConnected(15_000);
    carrier = new AriPeer(inject('asteriskCarrier'), 'carrier');
    await carrier.connect();
  });

  afterAll(async () => {
    carrier?.close();
    await app?.close();
  });

  it('reads /ari/asterisk/info through its ARI connection', async () => {
    const info = await app.ari.client.asterisk.getInfo();
    expect(info.system?.version).toMatch(/^22\./);
    expect(info.config?.name).toBeDefined();
  });

  it('reports database and Asterisk up on /readyz', async () => {
    const res = await app.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'ready',
      checks: {
        database: { up: true },
        asterisk: { up: true, state: 'connected', version: expect.stringMatching(/^22\./) },
      },
    });
  });

  it('sees a SIP call from the carrier arrive in Stasis with the dialled DID', async () => {
    const main = new AriPeer(inject('asteriskMain'), 'unused');
    await ensureTestTrunk(main);
    const did = `+1555${Math.floor(1_000_000 + Math.random() * 8_999_999)}`;
    const arrived = new Promise<StasisStartEvent>((resolve) => {
      const onStart = (event: StasisStartEvent) => {
        if (event.args[1] !== did) return;
        app.ari.off(AriEvent.StasisStart, onStart);
        resolve(event);
      };
      app.ari.on(AriEvent.StasisStart, onStart);
    });
    // Let the test decide what happens to the call, not the call engine.
    app.stasis.setHandler(async () => {});

    const outbound = await callDid(carrier, did, { from: '+442071234567', name: 'Carol Caller' });
    const event = await Promise.race([
      arrived,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('no StasisStart within 10 s')), 10_000),
      ),
    ]);
    expect(event.application).toBe('calldock');
    expect(event.args).toEqual([CallOrigin.Trunk, did]);
    expect(event.channel.name).toMatch(new RegExp(`^PJSIP/${TEST_TRUNK}-`));
    expect(event.channel.caller).toEqual({ name: 'Carol Caller', number: '+442071234567' });
    expect(event.channel.dialplan.context).toBe('from-trunk');

    await app.ari.client.channels.hangup({ channelId: event.channel.id });
    await carrier.waitFor(
      (e) => e.type === 'ChannelDestroyed' && (e.channel as { id: string }).id === outbound,
      10_000,
      'the carrier leg to end',
    );
  });
});
