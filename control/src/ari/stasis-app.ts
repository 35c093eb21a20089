/**
 * Hands every channel entering the `calldock` Stasis app to one handler. The call engine
 * registers itself as that handler; until one is registered (or if it throws), the caller is
 * refused with congestion rather than left in silence.
 */
import type { FastifyBaseLogger as Logger } from 'fastify';
import type { AriConnection } from './connection.ts';
import { AriEvent, type StasisStartEvent } from './events.ts';

export type StasisHandler = (event: StasisStartEvent) => Promise<void>;

export class StasisDispatcher {
  private handler: StasisHandler | undefined;

  constructor(
    private readonly ari: AriConnection,
    private readonly logger: Logger,
  ) {
    ari.on(AriEvent.StasisStart, (event: StasisStartEvent) => {
      void this.onStart(event);
    });
  }

  setHandler(handler: StasisHandler): void {
    this.handler = handler;
  }

  private async onStart(event: StasisStartEvent): Promise<void> {
    // On every call's way to an agent: no child logger made unless something goes wrong.
    const channelId = event.channel.id;
    this.logger.info({ channelId, args: event.args, caller: event.channel.caller.number, exten: event.channel.dialplan.exten }, 'StasisStart');
    try {
      if (!this.handler) throw new Error('no call handler registered');
      await this.handler(event);
    } catch (err) {
      const log = this.logger.child({ channelId, args: event.args });
      log.error({ err }, 'call could not be handled; refusing it');
      await this.hangup(event.channel.id, 'congestion', log);
    }
  }

  private async hangup(channelId: string, reason: string, log: Logger): Promise<void> {
    try {
      await this.ari.client.channels.hangup({ channelId, reason });
    } catch (err) {
      // The caller may already be gone: an expected race, not a fault.
      if (isNotFound(err)) log.debug('channel already gone');
      else log.warn({ err }, 'hangup failed');
    }
  }
}

/** ari-client rejects with an Error whose message holds Asterisk's JSON body. */
export function isNotFound(err: unknown): boolean {
  return err instanceof Error && /not found/i.test(err.message);
}
