import { describe, expect, it } from 'vitest';
import { Outbox, type OutboxEntry } from './outbox.ts';

function memoryStorage() {
  const map = new Map<string, string>();
  return {
    getItem: (k: string) => map.get(k) ?? null,
    setItem: (k: string, v: string) => void map.set(k, v),
  };
}

describe('Outbox', () => {
  it('keeps notes while sending fails and sends them once, when it works again', async () => {
    const sent: OutboxEntry[] = [];
    let online = false;
    const outbox = new Outbox(memoryStorage(), async (e) => {
      if (!online) throw new Error('offline');
      sent.push(e);
    });
    const entry = outbox.add({ callId: 'c1', notes: 'called back', disposition: 'resolved' });
    expect(await outbox.flush()).toBe(0);
    expect(outbox.lastError).toBe('offline');
    expect(outbox.entries()).toEqual([entry]);
    online = true;
    expect(await outbox.flush()).toBe(1);
    expect(await outbox.flush()).toBe(0);
    expect(sent).toEqual([entry]);
    expect(outbox.entries()).toEqual([]);
  });

  it('flushes again after a flush that had nothing to do', async () => {
    const sent: string[] = [];
    const outbox = new Outbox(memoryStorage(), async (e) => void sent.push(e.callId));
    expect(await outbox.flush()).toBe(0);
    outbox.add({ callId: 'c2', notes: '', disposition: null });
    expect(await outbox.flush()).toBe(1);
    expect(sent).toEqual(['c2']);
  });

  it('replaces an unsent entry for the same call and survives a reload', async () => {
    const storage = memoryStorage();
    const first = new Outbox(storage, async () => {
      throw new Error('offline');
    });
    first.add({ callId: 'c3', notes: 'draft', disposition: null });
    first.add({ callId: 'c3', notes: 'final', disposition: 'sale' });
    first.add({ callId: 'c4', notes: 'other', disposition: null });
    const sent: OutboxEntry[] = [];
    const reloaded = new Outbox(storage, async (e) => void sent.push(e));
    expect(await reloaded.flush()).toBe(2);
    expect(sent.map((e) => [e.callId, e.notes])).toEqual([
      ['c3', 'final'],
      ['c4', 'other'],
    ]);
  });

  it('sends each entry once even when flushes overlap', async () => {
    let calls = 0;
    const outbox = new Outbox(memoryStorage(), async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 10));
    });
    outbox.add({ callId: 'c5', notes: 'x', disposition: null });
    const [a, b] = await Promise.all([outbox.flush(), outbox.flush()]);
    expect(a + b).toBe(2);
    expect(calls).toBe(1);
  });
});
