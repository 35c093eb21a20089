import { describe, expect, it } from 'vitest';
import { detectType, nameContradicts } from './magic.ts';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const EXE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(62), Buffer.from([0x90, 0x00, 0x03])]);

describe('detectType', () => {
  it('knows images, PDF and text from their bytes', () => {
    expect(detectType(PNG)?.contentType).toBe('image/png');
    expect(detectType(Buffer.from('%PDF-1.7\n'))?.contentType).toBe('application/pdf');
    expect(detectType(Buffer.from('Hello, ünïcode\n'))?.contentType).toBe('text/plain');
  });

  it('refuses an executable and binary junk', () => {
    expect(detectType(EXE)).toBeUndefined();
    expect(detectType(Buffer.from([0, 1, 2, 3, 0xfe]))).toBeUndefined();
    expect(detectType(Buffer.alloc(0))).toBeUndefined();
  });
});

describe('nameContradicts', () => {
  it('catches a name claiming another accepted type or an executable one', () => {
    const pdf = detectType(Buffer.from('%PDF-1.4'))!;
    expect(nameContradicts('invoice.png', pdf)).toBe(true);
    expect(nameContradicts('invoice.PDF', pdf)).toBe(false);
    expect(nameContradicts('invoice', pdf)).toBe(false);
    expect(nameContradicts('readme.exe', detectType(Buffer.from('text'))!)).toBe(true);
  });
});
