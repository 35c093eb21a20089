import { describe, expect, it } from 'vitest';
import { summarizeStats } from './stats.ts';

describe('summarizeStats', () => {
  it('reads jitter, loss, RTT, bytes and levels from a getStats() report', () => {
    const figures = summarizeStats([
      {
        type: 'inbound-rtp',
        kind: 'audio',
        bytesReceived: 16_000,
        jitter: 0.0042,
        packetsLost: 2,
        packetsReceived: 198,
        audioLevel: 0.3,
      },
      { type: 'outbound-rtp', kind: 'audio', bytesSent: 15_000 },
      { type: 'remote-inbound-rtp', kind: 'audio', roundTripTime: 0.031 },
      { type: 'media-source', kind: 'audio', audioLevel: 0.2 },
      { type: 'inbound-rtp', kind: 'video', bytesReceived: 999_999 },
    ]);
    expect(figures).toEqual({
      jitterMs: 4.2,
      packetLossPct: 1,
      rttMs: 31,
      inboundBytes: 16_000,
      outboundBytes: 15_000,
      audioLevelIn: 0.3,
      audioLevelOut: 0.2,
    });
  });

  it('falls back to the candidate pair for RTT and reports nothing it does not know', () => {
    const figures = summarizeStats([
      { type: 'candidate-pair', state: 'succeeded', currentRoundTripTime: 0.002 },
    ]);
    expect(figures.rttMs).toBe(2);
    expect(figures.jitterMs).toBeNull();
    expect(figures.packetLossPct).toBeNull();
    expect(figures.inboundBytes).toBe(0);
  });
});
