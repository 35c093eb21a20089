/** Contacts: list and search, CSV import (bad lines reported) and export; voicemails to work. */
import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import { api, qs, type Page } from '../../../lib/api.ts';

export interface Contact {
  id: number;
  firstName: string;
  lastName: string;
  company: string;
  notes: string | null;
  phones: Array<{ number: string; label: string }>;
  emails: string[];
}

export interface ImportResult {
  imported: number;
  contactIds: number[];
  errors: Array<{ line: number; errors: Array<{ field: string; message: string }> }>;
}

export interface Voicemail {
  id: number;
  callId: number | null;
  boxUserId: number | null;
  boxName: string | null;
  fromNumber: string | null;
  durationMs: number;
  createdAt: string;
  listenedAt: string | null;
}

export const contactName = (c: Pick<Contact, 'firstName' | 'lastName' | 'company'>) =>
  [c.firstName, c.lastName].filter(Boolean).join(' ') || c.company || '(no name)';

/** One line per bad CSV row: "line 3: phones is not E.164; emails …". Pure. */
export function importErrorLines(result: ImportResult): string[] {
  return result.errors.map(
    (e) => `line ${e.line}: ${e.errors.map((f) => `${f.field} ${f.message}`).join('; ')}`,
  );
}

export const contactsQuery = (q: string) =>
  queryOptions({
    queryKey: ['contacts', q],
    queryFn: () => api.request<Page<Contact>>('GET', `/contacts${qs({ q, limit: 200 })}`),
  });

export function useImportContacts() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (csv: string) => api.request<ImportResult>('POST', '/contacts/import', { csv }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['contacts'] }),
  });
}

export const exportContacts = () => api.download('/contacts/export');

export const voicemailsQuery = queryOptions({
  queryKey: ['voicemails'],
  queryFn: () => api.request<Page<Voicemail>>('GET', '/voicemails?limit=100'),
});
