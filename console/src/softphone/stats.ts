/**
 * Turns an RTCStatsReport (or a plain list of its entries) into the figures the console shows and
 * reports: jitter, loss, round-trip time, bytes and audio levels both ways. Pure: unit-tested.
 */

export interface MediaFigures {
  jitterMs: number | null;
  packetLossPct: number | null;
  rttMs: number | null;
  inboundBytes: number;
  outboundBytes: number;
  audioLevelIn: number | null;
  audioLevelOut: number | null;
}

type Stat = Record<string, unknown> & { type: string };

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function summarizeStats(stats: Iterable<Stat>): MediaFigures {
  const out: MediaFigures = {
    jitterMs: null,
    packetLossPct: null,
    rttMs: null,
    inboundBytes: 0,
    outboundBytes: 0,
    audioLevelIn: null,
    audioLevelOut: null,
  };
  for (const s of stats) {
    const audio = s.kind === 'audio' || s.mediaType === 'audio' || s.kind === undefined;
    if (!audio) continue;
    if (s.type === 'inbound-rtp') {
      out.inboundBytes += num(s.bytesReceived) ?? 0;
      const jitter = num(s.jitter);
      if (jitter !== null) out.jitterMs = Math.round(jitter * 1000 * 10) / 10;
      const lost = num(s.packetsLost) ?? 0;
      const received = num(s.packetsReceived) ?? 0;
      if (lost + received > 0)
        out.packetLossPct = Math.round((1000 * Math.max(0, lost)) / (lost + received)) / 10;
      const level = num(s.audioLevel);
      if (level !== null) out.audioLevelIn = level;
    } else if (s.type === 'outbound-rtp') {
      out.outboundBytes += num(s.bytesSent) ?? 0;
    } else if (s.type === 'remote-inbound-rtp') {
      const rtt = num(s.roundTripTime);
      if (rtt !== null) out.rttMs = Math.round(rtt * 1000);
    } else if (s.type === 'candidate-pair' && s.state === 'succeeded' && out.rttMs === null) {
      const rtt = num(s.currentRoundTripTime);
      if (rtt !== null) out.rttMs = Math.round(rtt * 1000);
    } else if (s.type === 'media-source') {
      const level = num(s.audioLevel);
      if (level !== null) out.audioLevelOut = level;
    }
  }
  return out;
}
