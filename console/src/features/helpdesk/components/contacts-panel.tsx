/** Contacts: search, CSV import (the bad lines listed, the good rows kept) and CSV export. */
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { requestDial } from '../../../lib/dial.ts';
import { saveBlob } from '../../../lib/format.ts';
import {
  contactName,
  contactsQuery,
  exportContacts,
  importErrorLines,
  useImportContacts,
} from '../api/contacts.ts';

export function ContactsPanel() {
  const [draft, setDraft] = useState('');
  const [q, setQ] = useState('');
  const contacts = useQuery(contactsQuery(q));
  const importer = useImportContacts();
  const [exportError, setExportError] = useState<string>();
  const result = importer.data;

  return (
    <>
      <section className="card wide" aria-label="Contacts">
        <h2>Contacts</h2>
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            setQ(draft.trim());
          }}
        >
          <label>
            Search <input value={draft} onChange={(e) => setDraft(e.target.value)} />
          </label>
          <button type="submit">Search</button>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setExportError(undefined);
              exportContacts()
                .then((blob) => saveBlob(blob, 'contacts.csv'))
                .catch((err: Error) => setExportError(err.message));
            }}
          >
            Export CSV
          </button>
        </form>
        {exportError && <p className="error">{exportError}</p>}
        {contacts.error && <p className="error">{contacts.error.message}</p>}
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Company</th>
              <th>Phones</th>
              <th>Emails</th>
            </tr>
          </thead>
          <tbody>
            {(contacts.data?.items ?? []).map((c) => (
              <tr key={c.id} data-testid="contact-row">
                <td>{contactName(c)}</td>
                <td>{c.company}</td>
                <td>
                  {c.phones.map((p) => (
                    <button
                      key={p.number}
                      type="button"
                      className="link"
                      onClick={() => requestDial(p.number)}
                      aria-label={`Call ${p.number}`}
                      title="Call from my softphone"
                    >
                      {p.number}
                    </button>
                  ))}
                </td>
                <td>{c.emails.join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="card" aria-label="Import contacts">
        <h2>Import CSV</h2>
        <p className="muted">
          Columns: first_name, last_name, company, phones, emails, notes (several separated by “;”).
        </p>
        <label>
          CSV file{' '}
          <input
            type="file"
            accept=".csv,text/csv"
            disabled={importer.isPending}
            onChange={(e) => {
              const input = e.target;
              const file = input.files?.[0];
              if (!file) return;
              void file
                .text()
                .then((csv) => importer.mutate(csv, { onSettled: () => (input.value = '') }));
            }}
          />
        </label>
        {importer.error && <p className="error">{importer.error.message}</p>}
        {result && (
          <div data-testid="import-result">
            <p className="ok">Imported {result.imported}.</p>
            {result.errors.length > 0 && (
              <>
                <p className="error">{result.errors.length} lines were not imported:</p>
                <ul>
                  {importErrorLines(result).map((l) => (
                    <li key={l}>{l}</li>
                  ))}
                </ul>
              </>
            )}
          </div>
        )}
      </section>
    </>
  );
}
