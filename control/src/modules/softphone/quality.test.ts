import { describe, expect, it } from 'vitest';
import { QualityBoard, type QualitySample } from './quality.ts';

const sample = (inboundBytes: number): QualitySample => ({
  jitterMs: 3,
  packetLossPct: 0,
  rttMs: 20,
  inboundBytes,
  outboundBytes: inboundBytes,
  audioLevelIn: 0.1,
  audioLevelOut: 0.1,
});

describe('QualityBoard', () => {
  it('flags one-way audio when inbound bytes stop growing for 5 s', () => {
    let now = 0;
    const board = new QualityBoard(() => now);
    expect(board.report(1, 'c1', 7, sample(100)).oneWayAudio).toBe(false);
    now = 3_000;
    expect(board.report(1, 'c1', 7, sample(100)).oneWayAudio).toBe(false);
    now = 5_000;
    expect(board.report(1, 'c1', 7, sample(100)).oneWayAudio).toBe(true);
    now = 6_000;
    expect(board.report(1, 'c1', 7, sample(900)).oneWayAudio).toBe(false);
  });

  it('does not count silence on hold as one-way audio', () => {
    let now = 0;
    const board = new QualityBoard(() => now);
    board.report(1, 'c1', 7, sample(100));
    now = 4_000;
    board.report(1, 'c1', 7, sample(100), true);
    now = 8_000;
    expect(board.report(1, 'c1', 7, sample(100), true).oneWayAudio).toBe(false);
    now = 12_000;
    expect(board.report(1, 'c1', 7, sample(100)).oneWayAudio).toBe(false);
    now = 13_000;
    expect(board.report(1, 'c1', 7, sample(100)).oneWayAudio).toBe(true);
  });

  it('does not list another tenant’s calls, nor calls that ended', () => {
    const board = new QualityBoard(() => 0);
    board.report(1, 'a', 7, sample(1));
    board.report(2, 'b', 8, sample(1));
    board.report(1, 'gone', 7, sample(1));
    expect(board.list(1, (id) => id !== 'gone').map((q) => q.callId)).toEqual(['a']);
  });
});
