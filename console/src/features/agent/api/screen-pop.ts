/** Who is calling: the caller's number matched to contacts, with their recent tickets and calls. */
import { queryOptions } from '@tanstack/react-query';
import { api, qs } from '../../../lib/api.ts';

export interface ScreenPopMatch {
  contact: {
    id: number;
    firstName: string;
    lastName: string;
    company: string;
    phones: Array<{ number: string; label: string }>;
    emails: string[];
  };
  recentTickets: Array<{ id: number; subject: string; status: string; updatedAt: string }>;
  recentCalls: Array<{
    id: number;
    direction: string;
    fromNumber: string | null;
    toNumber: string | null;
    startedAt: string;
    talkMs: number;
  }>;
}

/**
 * The caller as E.164, or null when it cannot be one. SIP From users often come without the
 * plus (`441610000000`) or with the international prefix (`00441…`). Pure.
 */
export function callerE164(from: string): string | null {
  let digits = from.trim().replace(/[\s().-]/g, '');
  if (digits.startsWith('sip:')) digits = digits.slice(4).split('@')[0] ?? '';
  if (digits.startsWith('00')) digits = `+${digits.slice(2)}`;
  if (!digits.startsWith('+')) digits = `+${digits}`;
  return /^\+[1-9][0-9]{1,14}$/.test(digits) ? digits : null;
}

export const screenPopQuery = (phone: string) =>
  queryOptions({
    queryKey: ['screen-pop', phone],
    queryFn: () => api.request<{ items: ScreenPopMatch[] }>('GET', `/screen-pop${qs({ phone })}`),
    staleTime: 30_000,
  });
