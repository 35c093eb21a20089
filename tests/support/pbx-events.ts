/**
 * What the PBX (Asterisk under test) reports to the control plane, as a test sees it: every
 * event of the app's own ARI connection from the moment this is created, to wait on.
 */
import type { AriConnection } from '../../control/src/ari/connection.ts';
import type { AnyAriEvent } from '../../control/src/ari/events.ts';

export class PbxEvents {
  private readonly seen: AnyAriEvent[] = [];
  private readonly waiters = new Set<{
    match: (e: AnyAriEvent) => boolean;
    resolve: (e: AnyAriEvent) => void;
  }>();
  private readonly onEvent = (event: AnyAriEvent) => {
    this.seen.push(event);
    for (const waiter of this.waiters) {
      if (waiter.match(event)) {
        this.waiters.delete(waiter);
        waiter.resolve(event);
      }
    }
  };

  constructor(private readonly ari: AriConnection) {
    ari.on('event', this.onEvent);
  }

  /** The first event (already seen or still to come) that matches. */
  waitFor(
    match: (e: AnyAriEvent) => boolean,
    timeoutMs = 10_000,
    what = 'a PBX event',
  ): Promise<AnyAriEvent> {
    const already = this.seen.find(match);
    if (already) return Promise.resolve(already);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (e: AnyAriEvent) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Events seen so far that match. */
  filter(match: (e: AnyAriEvent) => boolean): AnyAriEvent[] {
    return this.seen.filter(match);
  }

  /** A playback on a channel has started (`nth` counts from 1). */
  playbackStarted(channelId: string, nth = 1, timeoutMs = 10_000): Promise<AnyAriEvent> {
    const onChannel = (e: AnyAriEvent) =>
      e.type === 'PlaybackStarted' &&
      (e.playback as { target_uri: string }).target_uri === `channel:${channelId}`;
    return this.waitFor(
      (e) => onChannel(e) && this.seen.filter(onChannel).indexOf(e) === nth - 1,
      timeoutMs,
      `playback #${nth} on ${channelId}`,
    );
  }

  close(): void {
    this.ari.off('event', this.onEvent);
  }
}

/** Polls `probe` until it answers something other than undefined. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
