/**
 * Click-to-call from anywhere in the console (a CDR row, a contact): the softphone screen, which
 * stays mounted on every page, places the call so it can answer its own leg when the PBX rings it.
 */
const EVENT = 'calldock:dial';

export function requestDial(number: string): void {
  window.dispatchEvent(new CustomEvent<string>(EVENT, { detail: number }));
}

export function onDialRequest(fn: (number: string) => void): () => void {
  const listener = (e: Event) => fn((e as CustomEvent<string>).detail);
  window.addEventListener(EVENT, listener);
  return () => window.removeEventListener(EVENT, listener);
}

const EXPECT = 'calldock:expect-call';

/** The PBX is about to ring my phone because I asked (listen, whisper, barge): answer it there. */
export function expectCall(): void {
  window.dispatchEvent(new Event(EXPECT));
}

export function onExpectCall(fn: () => void): () => void {
  window.addEventListener(EXPECT, fn);
  return () => window.removeEventListener(EXPECT, fn);
}
