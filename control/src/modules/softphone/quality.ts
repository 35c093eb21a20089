/**
 * Media quality of live calls as the agents' softphones measure it (`getStats()` every few
 * seconds): kept in memory per call, newest sample only, and judged here so every console shows
 * the same verdict. One-way audio: the softphone's inbound byte count has not grown for
 * ONE_WAY_AFTER_MS while the call was being reported on.
 */

export const ONE_WAY_AFTER_MS = 5_000;
/** A call nobody reported on for this long is forgotten (the softphone closed, the call ended). */
const STALE_AFTER_MS = 30_000;

export interface QualitySample {
  jitterMs: number | null;
  packetLossPct: number | null;
  rttMs: number | null;
  inboundBytes: number;
  outboundBytes: number;
  audioLevelIn: number | null;
  audioLevelOut: number | null;
}

export interface CallQuality extends QualitySample {
  callId: string;
  userId: number;
  reportedAt: number;
  /** When the inbound byte count last grew (or reporting began). */
  inboundGrewAt: number;
  oneWayAudio: boolean;
}

interface Entry {
  tenantId: number;
  quality: CallQuality;
}

export class QualityBoard {
  private readonly calls = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Records a sample and returns the call's judged quality. `quiet`: the agent is meant to hear
   * nothing now (the customer is on hold), so silence is not one-way audio.
   */
  report(
    tenantId: number,
    callId: string,
    userId: number,
    sample: QualitySample,
    quiet = false,
  ): CallQuality {
    const now = this.now();
    const key = `${tenantId}:${callId}`;
    const previous = this.calls.get(key)?.quality;
    const grew =
      quiet ||
      !previous ||
      sample.inboundBytes > previous.inboundBytes ||
      previous.userId !== userId;
    const inboundGrewAt = grew ? now : previous.inboundGrewAt;
    const quality: CallQuality = {
      ...sample,
      callId,
      userId,
      reportedAt: now,
      inboundGrewAt,
      oneWayAudio: now - inboundGrewAt >= ONE_WAY_AFTER_MS,
    };
    this.calls.set(key, { tenantId, quality });
    return quality;
  }

  /** The tenant's calls with a recent report, those still live per `isLive`. */
  list(tenantId: number, isLive: (callId: string) => boolean): CallQuality[] {
    const now = this.now();
    const out: CallQuality[] = [];
    for (const [key, entry] of this.calls) {
      if (now - entry.quality.reportedAt > STALE_AFTER_MS || !isLive(entry.quality.callId)) {
        this.calls.delete(key);
        continue;
      }
      if (entry.tenantId === tenantId) out.push(entry.quality);
    }
    return out;
  }
}
