/**
 * How much of one frequency a recording holds (Goertzel): lets a test tell the customer's 440 Hz
 * tone from a supervisor's 1000 Hz one in what a phone heard.
 */
import type { Wav } from './wav.ts';

/** The amplitude of the `hz` component, on the samples' scale: a sine of amplitude A reads ≈ A. */
export function toneLevel(wav: Wav, hz: number): number {
  const n = wav.samples.length;
  if (n === 0) return 0;
  const coeff = 2 * Math.cos((2 * Math.PI * hz) / wav.sampleRate);
  let prev = 0;
  let prev2 = 0;
  for (const s of wav.samples) {
    const next = s + coeff * prev - prev2;
    prev2 = prev;
    prev = next;
  }
  const power = prev * prev + prev2 * prev2 - coeff * prev * prev2;
  return (2 * Math.sqrt(Math.max(0, power))) / n;
}
