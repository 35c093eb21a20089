/**
 * IVR menus at run time: the handler of the call engine's `ivr` targets.
 *
 *   entered ──► prompt ──(digit with an option)──► routed to the option's target (engine.routeTo)
 *                 ▲  │                               (a queue, another menu, voicemail, ...)
 *                 │  ├─ no digit `timeout_seconds` after the prompt ─┐
 *                 │  └─ a digit without an option ───────────────────┤
 *                 │                                                  ▼
 *                 └───────── retries left: invalid prompt, then the menu again
 *                                 none left: invalid prompt, then the failover target
 *                                            (or goodbye and hang up)
 *
 * A digit pressed while a prompt plays stops it and counts. The menu is read from MySQL each
 * time a call enters it, so an admin's change applies to the next caller. The caller can hang
 * up at any moment: every step checks `call.ended` after its await, and the engine closes the CDR.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/database.ts';
import type { Telephony } from '../../ari/telephony.ts';
import type { ActiveCall } from '../calls/call.ts';
import type { CallEngine } from '../calls/engine.ts';
import { toTarget, type Target } from '../calls/queues.ts';

export interface IvrMenu {
  id: number;
  name: string;
  prompt: string;
  timeoutSeconds: number;
  maxRetries: number;
  invalidPrompt: string;
  failover: Target | undefined;
  options: Map<string, Target>;
}

export const DEFAULT_INVALID_PROMPT = 'sound:invalid';
const NO_SERVICE = 'sound:ss-noservice';
const GOODBYE = 'sound:vm-goodbye';
/** Menus one call may enter: a failover loop between menus must not keep a line forever. */
const MAX_MENU_VISITS = 20;

export async function loadMenu(
  db: Db,
  tenantId: number,
  menuId: number,
): Promise<IvrMenu | undefined> {
  const menu = await db
    .selectFrom('ivrMenus')
    .selectAll()
    .where('tenantId', '=', tenantId)
    .where('id', '=', menuId)
    .executeTakeFirst();
  if (!menu) return undefined;
  const options = await db
    .selectFrom('ivrOptions')
    .select(['digit', 'targetType', 'targetId', 'targetValue'])
    .where('tenantId', '=', tenantId)
    .where('menuId', '=', menuId)
    .execute();
  const byDigit = new Map<string, Target>();
  for (const option of options) {
    const target = toTarget(option.targetType, option.targetId, option.targetValue);
    if (target) byDigit.set(option.digit, target);
  }
  return {
    id: menu.id,
    name: menu.name,
    prompt: menu.prompt,
    timeoutSeconds: menu.timeoutSeconds,
    maxRetries: menu.maxRetries,
    invalidPrompt: menu.invalidPrompt ?? DEFAULT_INVALID_PROMPT,
    failover: toTarget(menu.failoverTargetType, menu.failoverTargetId, menu.failoverTargetValue),
    options: byDigit,
  };
}

export class IvrRuntime {
  private readonly visits = new WeakMap<ActiveCall, number>();

  constructor(
    private readonly db: Db,
    private readonly telephony: Telephony,
    private readonly engine: CallEngine,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Takes the engine's `ivr` targets. */
  register(): void {
    this.engine.registerTarget('ivr', (call, target) => this.run(call, target));
  }

  async run(call: ActiveCall, target: Target): Promise<void> {
    if (target.id === null)
      return this.engine.endWithAnnouncement(call, NO_SERVICE, 'ivr target without id');
    const visits = (this.visits.get(call) ?? 0) + 1;
    this.visits.set(call, visits);
    if (visits > MAX_MENU_VISITS) {
      this.log.warn({ callId: call.id, menuId: target.id }, 'call went through too many IVR menus');
      return this.engine.endWithAnnouncement(call, NO_SERVICE, 'too many ivr menus');
    }
    const menu = await loadMenu(this.db, call.tenantId, target.id);
    if (call.ended) return;
    if (!menu)
      return this.engine.endWithAnnouncement(call, NO_SERVICE, `ivr menu ${target.id} not found`);

    await this.telephony.answer(call.id);
    if (call.ended) return;
    void call.cdr.transition('ivr_entered', { state: 'ivr' }, { menuId: menu.id, menu: menu.name });

    let media = [menu.prompt];
    for (let attempt = 1; ; attempt++) {
      const heard = await this.telephony.collectDigit(call.id, media, menu.timeoutSeconds * 1000);
      if (call.ended || heard.kind === 'gone') return;
      if (heard.kind === 'digit') {
        const next = menu.options.get(heard.digit);
        if (next) {
          void call.cdr.transition(
            'ivr_digit',
            {},
            { menuId: menu.id, digit: heard.digit, target: next },
          );
          return this.engine.routeTo(call, next);
        }
        void call.cdr.transition(
          'ivr_invalid',
          {},
          { menuId: menu.id, digit: heard.digit, attempt },
        );
      } else {
        void call.cdr.transition('ivr_timeout', {}, { menuId: menu.id, attempt });
      }
      if (attempt > menu.maxRetries) break;
      // The retry's prompt is interruptible as a whole: a caller who knows the menu need not wait.
      media = [menu.invalidPrompt, menu.prompt];
    }

    await this.telephony.playAndWait(call.id, menu.invalidPrompt, 30_000);
    if (call.ended) return;
    void call.cdr.transition(
      'ivr_failover',
      {},
      { menuId: menu.id, target: menu.failover ?? null },
    );
    if (menu.failover) return this.engine.routeTo(call, menu.failover);
    return this.engine.endWithAnnouncement(call, GOODBYE, 'ivr retries used up');
  }
}
