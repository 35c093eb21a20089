import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../../control/src/db/database.ts';
import { buildTestApp } from '../support/app.ts';
import { bearer, createTenant, createUser, tokenFor } from '../support/fixtures.ts';

type App = Awaited<ReturnType<typeof buildTestApp>>;

interface Message {
  topic: string;
  data: Record<string, unknown>;
}

function open(url: string): Promise<{ ws: WebSocket; messages: Message[]; next: (topic: string, ms?: number) => Promise<Message> }> {
  const ws = new WebSocket(url);
  const messages: Message[] = [];
  const waiters: Array<{ topic: string; resolve: (m: Message) => void }> = [];
  ws.on('message', (raw) => {
    const message = JSON.parse(raw.toString()) as Message;
    messages.push(message);
    for (const w of [...waiters]) {
      if (w.topic === message.topic) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(message);
      }
    }
  });
  const next = (topic: string, ms = 5_000) =>
    new Promise<Message>((resolve, reject) => {
      const seen = messages.find((m) => m.topic === topic);
      if (seen) return resolve(seen);
      const timer = setTimeout(() => reject(new Error(`no ${topic} within ${ms} ms`)), ms);
      waiters.push({ topic, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, messages, next }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

describe('live events over the WebSocket', () => {
  let app: App;
  let base: string;
  const db = createDatabase(inject('databaseUrl'), { connectionLimit: 2 });

  beforeAll(async () => {
    app = await buildTestApp();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address() as { port: number };
    base = `ws://127.0.0.1:${address.port}/api/v1/ws`;
  });

  afterAll(async () => {
    await app.close();
    await db.destroy();
  });

  it("pushes an agent's state change to its tenant's consoles and to no other tenant", async () => {
    const a = await createTenant(db);
    const b = await createTenant(db);
    const supervisorA = await createUser(db, a.id, 'supervisor');
    const supervisorB = await createUser(db, b.id, 'supervisor');
    const agent = await createUser(db, a.id, 'agent');
    const consoleA = await open(`${base}?access_token=${await tokenFor(app, supervisorA)}`);
    const consoleB = await open(`${base}?access_token=${await tokenFor(app, supervisorB)}`);
    await consoleA.next('hello');
    await consoleB.next('hello');

    const pushed = consoleA.next('agent.state');
    const res = await app.inject({
      method: 'PUT',
      url: `/api/v1/agents/${agent.id}/state`,
      headers: bearer(await tokenFor(app, supervisorA)),
      payload: { status: 'away', reason: 'training' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const message = await pushed;
    expect(message.data).toMatchObject({ userId: agent.id, status: 'away', reason: 'training' });
    // Give tenant B's socket the same chance to (wrongly) receive it.
    await new Promise((r) => setTimeout(r, 200));
    expect(consoleB.messages.filter((m) => m.topic === 'agent.state')).toEqual([]);
    consoleA.ws.close();
    consoleB.ws.close();
  });

  it('refuses a connection without a valid token', async () => {
    await expect(open(base)).rejects.toThrow(/HTTP 40[01]/);
    await expect(open(`${base}?access_token=not-a-token`)).rejects.toThrow('HTTP 401');
  });
});
