/**
 * Chat routing by the capacity model shared with voice, visitor tokens, and the staff inbox's
 * access rules, against the real database. (The browser round trip is in tests/e2e/widget.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallHarness, until } from '../support/call-harness.ts';
import { callDid } from '../support/carrier.ts';
import { bearer, createUser, tokenFor } from '../support/fixtures.ts';
import { createDid, createQueue, type TestAgent } from '../support/telephony-fixtures.ts';

const SITE = 'https://help.example.test';

describe('widget chat: capacity, tokens, inbox', () => {
  const h = new CallHarness();
  let admin: string;
  let ada: TestAgent;
  let bea: TestAgent;
  let publicId: string;

  beforeAll(async () => {
    await h.start();
    admin = await tokenFor(h.app, await createUser(h.db, h.tenantId, 'tenant_admin'));
    ada = await h.agent();
    bea = await h.agent();
    const queueId = await createQueue(h.db, h.tenantId, {
      members: [{ userId: ada.id }, { userId: bea.id }],
    });
    const res = await h.post(admin, '/widgets', {
      name: 'Help',
      callEnabled: false,
      chatQueueId: queueId,
      allowedOrigins: [SITE],
    });
    expect(res.statusCode, res.body).toBe(201);
    publicId = res.json().publicId;
    const settings = await h.app.inject({
      method: 'PUT',
      url: '/api/v1/chat-settings',
      headers: bearer(admin),
      payload: { maxChatsPerAgent: 1, chatDuringCall: false },
    });
    expect(settings.json()).toEqual({ maxChatsPerAgent: 1, chatDuringCall: false });
  }, 60_000);

  afterAll(async () => {
    await h.stop();
  });

  const startChat = (name: string, origin = SITE) =>
    h.app.inject({
      method: 'POST',
      url: `/api/v1/widgets/${publicId}/chats`,
      headers: { origin },
      payload: { name },
    });

  it('gives each person up to N chats, none to a person on a call, and queues the rest', async () => {
    await h.setState(ada, 'available');
    await h.setState(bea, 'away');
    const first = await startChat('One');
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json().chat).toMatchObject({ status: 'active', assignedUserId: ada.id });
    // Ada is full (one chat each); Bea is away: the next one waits.
    const second = await startChat('Two');
    expect(second.json().chat).toMatchObject({ status: 'waiting', assignedUserId: null });
    // Bea comes back and a call rings her at once: no chat for her while chats during calls are off.
    h.app.agents.apply(bea.id, { type: 'set_available' });
    h.app.agents.apply(bea.id, { type: 'offer', callId: 'ringing-call' });
    await h.app.chats.routeWaiting(h.tenantId);
    expect((await h.app.chats.get(h.tenantId, second.json().chat.id)).status).toBe('waiting');
    // The call goes elsewhere: she is free, and the waiting chat comes to her.
    h.app.agents.apply(bea.id, { type: 'offer_cancelled' });
    await expect
      .poll(async () => (await h.app.chats.get(h.tenantId, second.json().chat.id)).assignedUserId)
      .toBe(bea.id);
  });

  it('refuses other origins, and a visitor token opens only its own chat', async () => {
    expect((await startChat('Evil', 'https://evil.example.test')).statusCode).toBe(403);
    const started = (await startChat('Vera')).json();
    const verified = await h.app.chats.verifyToken(started.token);
    expect(verified.chatId).toBe(started.chat.id);
    await expect(h.app.chats.verifyToken(`${started.token}x`)).rejects.toThrow(/not valid/);
    // A visitor token is no access token.
    const asStaff = await h.app.inject({ url: '/api/v1/chats', headers: bearer(started.token) });
    expect(asStaff.statusCode).toBe(401);
  });

  it('shows agents only their own chats; supervisors and admins all', async () => {
    const mine = await h.app.inject({
      url: '/api/v1/chats?status=active',
      headers: bearer(await tokenFor(h.app, ada)),
    });
    expect(
      mine.json().items.every((c: { assignedUserId: number }) => c.assignedUserId === ada.id),
    ).toBe(true);
    const all = await h.app.inject({ url: '/api/v1/chats', headers: bearer(admin) });
    expect(all.json().items.length).toBeGreaterThanOrEqual(3);
    const other = all
      .json()
      .items.find((c: { assignedUserId: number | null }) => c.assignedUserId !== ada.id);
    const denied = await h.app.inject({
      url: `/api/v1/chats/${other.id}`,
      headers: bearer(await tokenFor(h.app, ada)),
    });
    expect(denied.statusCode).toBe(404);
    const closed = await h.app.inject({
      method: 'POST',
      url: `/api/v1/chats/${other.id}/close`,
      headers: bearer(admin),
    });
    expect(closed.json().status).toBe('closed');
  });

  it('offers no call to a person holding chats, until the chat ends or the tenant mixes them', async () => {
    const cara = await h.agent();
    const chatQueue = await createQueue(h.db, h.tenantId, { members: [{ userId: cara.id }] });
    const widget = await h.post(admin, '/widgets', {
      name: 'Cara',
      callEnabled: false,
      chatQueueId: chatQueue,
      allowedOrigins: [SITE],
    });
    const chatWith = async (name: string) => {
      const res = await h.app.inject({
        method: 'POST',
        url: `/api/v1/widgets/${widget.json().publicId}/chats`,
        headers: { origin: SITE },
        payload: { name },
      });
      expect(res.json().chat, res.body).toMatchObject({ status: 'active', assignedUserId: cara.id });
      return res.json().chat.id as number;
    };
    const callQueue = await createQueue(h.db, h.tenantId, { members: [{ userId: cara.id }] });
    const did = await createDid(h.db, h.tenantId, { type: 'queue', id: callQueue });
    await h.setState(cara, 'available');

    // Cara chats: a call to her queue waits instead of ringing her.
    const chatId = await chatWith('Chatty');
    const outside = await callDid(h.carrier, did, { from: '+442079460101' });
    const call = await until('the call to wait in the queue', async () =>
      h.app.calls.activeCalls().find((c) => c.to === did && c.status === 'queued'),
    );
    await expect(h.phones.ringing(cara.phone, 2_500)).rejects.toThrow();
    expect(call.offers.size).toBe(0);

    // Her chat ends: the waiting call rings her at once.
    const closed = await h.app.inject({
      method: 'POST',
      url: `/api/v1/chats/${chatId}/close`,
      headers: bearer(await tokenFor(h.app, cara)),
    });
    expect(closed.statusCode, closed.body).toBe(200);
    const ringing = await h.phones.ringing(cara.phone, 10_000);
    await h.phones.hangup(ringing, 'busy');
    await h.phones.hangup(outside);
    await h.ended(call.id);
    await h.setState(cara, 'available');

    // With chats during calls allowed, a chat does not hold calls back.
    const mixed = await h.app.inject({
      method: 'PUT',
      url: '/api/v1/chat-settings',
      headers: bearer(admin),
      payload: { chatDuringCall: true },
    });
    expect(mixed.statusCode, mixed.body).toBe(200);
    await chatWith('Also chatty');
    const second = await callDid(h.carrier, did, { from: '+442079460102' });
    const rang = await h.phones.ringing(cara.phone, 10_000);
    await h.phones.hangup(rang, 'busy');
    await h.phones.hangup(second);
    await h.app.inject({
      method: 'PUT',
      url: '/api/v1/chat-settings',
      headers: bearer(admin),
      payload: { chatDuringCall: false },
    });
  }, 60_000);
});
