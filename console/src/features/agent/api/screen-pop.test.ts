import { describe, expect, it } from 'vitest';
import { callerE164 } from './screen-pop.ts';

describe('callerE164', () => {
  it('reads the caller as E.164 with or without the plus or 00', () => {
    expect(callerE164('+441610000001')).toBe('+441610000001');
    expect(callerE164('441610000001')).toBe('+441610000001');
    expect(callerE164('00441610000001')).toBe('+441610000001');
    expect(callerE164('+44 161 000-0001')).toBe('+441610000001');
  });

  it('gives up on what cannot be a phone number', () => {
    expect(callerE164('anonymous')).toBeNull();
    expect(callerE164('')).toBeNull();
    expect(callerE164('0123')).toBeNull();
  });
});
