import { describe, expect, it } from 'vitest';
import { offerHeader } from './engine.ts';

describe('the X-Calldock-Offer header of an agent leg', () => {
  it('carries call, queue, line and start in one header, whatever the queue is called', () => {
    const header = offerHeader(
      { id: '1795.42', to: '+442071234567', startedAt: Date.UTC(2026, 10, 22, 9, 30) },
      { name: 'Sales & Support; "VIP"=yes' },
    );
    expect(header).not.toMatch(/[\s;"]/);
    const read = new URLSearchParams(header);
    expect(Object.fromEntries(read)).toEqual({
      call: '1795.42',
      queue: 'Sales & Support; "VIP"=yes',
      did: '+442071234567',
      started: '2026-11-22T09:30:00.000Z',
    });
  });
});
