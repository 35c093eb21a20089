import { describe, expect, it } from 'vitest';
import { dialRefusal, toE164 } from './dial-rules.ts';

const us = { homeCountryCode: '1', allowedPrefixes: [] };
const uk = { homeCountryCode: '44', allowedPrefixes: [] };

describe('dial rules', () => {
  it('lets domestic numbers through, in E.164 and national format', () => {
    expect(dialRefusal('+1 (555) 123-4567', us)).toBeUndefined();
    expect(dialRefusal('5551234567', us)).toBeUndefined();
    expect(dialRefusal('15551234567', us)).toBeUndefined();
    expect(dialRefusal('+442079460000', uk)).toBeUndefined();
    expect(dialRefusal('02079460000', uk)).toBeUndefined();
  });

  it('denies international numbers unless a prefix allows them', () => {
    expect(dialRefusal('+442079460000', us)).toBe('international');
    expect(dialRefusal('00442079460000', us)).toBe('international');
    expect(dialRefusal('+15551234567', uk)).toBe('international');
    expect(dialRefusal('+442079460000', { ...us, allowedPrefixes: ['+44'] })).toBeUndefined();
    expect(dialRefusal('+332079460000', { ...us, allowedPrefixes: ['+44'] })).toBe('international');
  });

  it('denies premium-rate numbers, domestic ones too, unless a prefix allows them', () => {
    expect(dialRefusal('+19005551234', us)).toBe('premium_rate');
    expect(dialRefusal('19005551234', us)).toBe('premium_rate');
    expect(dialRefusal('09098790000', uk)).toBe('premium_rate');
    expect(dialRefusal('+881631234567', { ...us, allowedPrefixes: ['+44'] })).toBe('premium_rate');
    expect(dialRefusal('+19005551234', { ...us, allowedPrefixes: ['+1900'] })).toBeUndefined();
  });

  it('normalises national formats', () => {
    expect(toE164('020 7946 0000', '44')).toBe('+442079460000');
    expect(toE164('1-555-123-4567', '1')).toBe('+15551234567');
    expect(toE164('0044 20 7946 0000', '1')).toBe('+442079460000');
  });
});
