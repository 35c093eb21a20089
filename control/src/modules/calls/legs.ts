/**
 * What transfer, monitoring and outbound calls share: the first Stasis argument of each channel
 * they originate (so the engine hands its StasisStart back to them), the Q.850 causes they read,
 * and a polite way to end a call with a cause the other side will see.
 */
import type { HangupReason, Telephony } from '../../ari/telephony.ts';
import type { ActiveCall } from './call.ts';
import type { CallEngine, HangupSide } from './engine.ts';

export enum ControlLeg {
  /** A blind transfer's target (an agent's phone or an outside number) ringing. */
  Transfer = 'xfer',
  /** The consult call of an attended transfer. */
  Consult = 'consult',
  /** A supervisor's phone, called to listen, whisper or barge. */
  Monitor = 'monitor',
  /** The snoop channel on an agent's leg that a supervisor hears. */
  Snoop = 'snoop',
  /** The outside party of an agent's outbound call. */
  Outbound = 'outbound',
  /** The colleague an agent called by extension. */
  Internal = 'internal',
  /** The agent's own phone, rung first by click-to-call. */
  ClickToCall = 'click',
  /** The customer of a callback, dialled once an agent took it. */
  Callback = 'callback',
}

/** Q.850 causes. */
export const Cause = {
  Normal: 16,
  Busy: 17,
  NoAnswer: 19,
  Absent: 20,
  Rejected: 21,
  Unallocated: 1,
  AnsweredElsewhere: 26,
  Congestion: 34,
} as const;

/** What to hang a waiting phone up with, so it shows the far end's reason. */
export function reasonFor(cause: number): HangupReason {
  switch (cause) {
    case Cause.Busy:
      return 'busy';
    case Cause.NoAnswer:
    case 18:
      return 'no_answer';
    case Cause.Rejected:
      return 'rejected';
    case Cause.Unallocated:
      return 'unallocated';
    case Cause.Normal:
      return 'normal';
    default:
      return 'congestion';
  }
}

/** The CDR disposition of a call that was never answered, by cause. */
export function dispositionFor(cause: number): string {
  switch (cause) {
    case Cause.Busy:
      return 'busy';
    case Cause.NoAnswer:
    case 18:
      return 'no_answer';
    case Cause.Rejected:
      return 'rejected';
    default:
      return 'failed';
  }
}

/**
 * Hangs `channelId` up with `reason` and ends the call once it is gone, from `side` and with the
 * Q.850 `cause` that made it end: the engine's own hang-up would use a plain "normal clearing"
 * and name the wrong side.
 */
export async function hangUpAndFinish(
  engine: CallEngine,
  telephony: Telephony,
  call: ActiveCall,
  channelId: string,
  reason: HangupReason,
  side: HangupSide,
  disposition: string,
  cause: number,
): Promise<void> {
  engine.watchChannel(channelId, () => engine.finish(call, side, cause, disposition));
  if (!(await telephony.channelExists(channelId))) {
    engine.unwatchChannel(channelId);
    await engine.finish(call, side, cause, disposition);
    return;
  }
  await telephony.hangup(channelId, reason);
}

/** `"Ann Smith" <1001>`: what a phone shows for a colleague. */
export function agentCallerId(name: string, extension: string | null): string {
  const clean = name.replace(/["<>\\]/g, '').trim();
  return extension ? `"${clean}" <${extension}>` : `"${clean}"`;
}
