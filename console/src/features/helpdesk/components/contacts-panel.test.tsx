import { act } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { afterEach, describe, expect, it } from 'vitest';
import { onDialRequest } from '../../../lib/dial.ts';
import { ContactsPanel } from './contacts-panel.tsx';

declare global {
  var IS_REACT_ACT_ENVIRONMENT: boolean;
}
globalThis.IS_REACT_ACT_ENVIRONMENT = true;

describe('contacts panel', () => {
  let container: HTMLDivElement | undefined;
  afterEach(() => container?.remove());

  it("calls a contact's number from the softphone when it is clicked", async () => {
    const client = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false } } });
    client.setQueryData(['contacts', ''], {
      items: [
        {
          id: 7,
          firstName: 'Ada',
          lastName: 'Lovelace',
          company: 'Engines',
          notes: null,
          phones: [{ number: '+442079460001' }, { number: '+15550100200' }],
          emails: ['ada@example.test'],
        },
      ],
      nextCursor: null,
    });
    container = document.createElement('div');
    document.body.append(container);
    const root = createRoot(container);
    await act(async () => {
      root.render(
        <QueryClientProvider client={client}>
          <ContactsPanel />
        </QueryClientProvider>,
      );
    });
    const dialled: string[] = [];
    const stop = onDialRequest((n) => dialled.push(n));
    const button = container.querySelector<HTMLButtonElement>('button[aria-label="Call +15550100200"]');
    expect(button).not.toBeNull();
    await act(async () => button!.click());
    stop();
    expect(dialled).toEqual(['+15550100200']);
    await act(async () => root.unmount());
  });
});
