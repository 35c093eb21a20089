/**
 * WAV files as tests judge them: parsed here without the control plane's own code, then measured
 * (RMS, peak) to tell speech from silence.
 */
export interface Wav {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** Samples of the first channel, -1 … 1. */
  samples: Float32Array;
  durationMs: number;
}

export function parseWav(file: Buffer): Wav {
  if (file.toString('ascii', 0, 4) !== 'RIFF' || file.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error(
      `not a WAV file (starts with ${JSON.stringify(file.subarray(0, 16).toString('latin1'))})`,
    );
  }
  let offset = 12;
  let fmt:
    | { channels: number; sampleRate: number; bitsPerSample: number; audioFormat: number }
    | undefined;
  while (offset + 8 <= file.length) {
    const id = file.toString('ascii', offset, offset + 4);
    const size = file.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      fmt = {
        audioFormat: file.readUInt16LE(body),
        channels: file.readUInt16LE(body + 2),
        sampleRate: file.readUInt32LE(body + 4),
        bitsPerSample: file.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!fmt) throw new Error('WAV data chunk before its fmt chunk');
      if (fmt.audioFormat !== 1 || fmt.bitsPerSample !== 16) {
        throw new Error(
          `expected 16-bit PCM, got format ${fmt.audioFormat} with ${fmt.bitsPerSample} bits`,
        );
      }
      const end = Math.min(file.length, body + (size || file.length));
      const frame = 2 * fmt.channels;
      const frames = Math.floor((end - body) / frame);
      const samples = new Float32Array(frames);
      for (let i = 0; i < frames; i++) samples[i] = file.readInt16LE(body + i * frame) / 32768;
      return {
        sampleRate: fmt.sampleRate,
        channels: fmt.channels,
        bitsPerSample: fmt.bitsPerSample,
        samples,
        durationMs: Math.round((frames * 1000) / fmt.sampleRate),
      };
    }
    offset = body + size + (size % 2);
  }
  throw new Error('WAV file without a data chunk');
}

/** Root mean square of the samples (0 = silence, ~0.7 = a full-scale sine). */
export function rms(samples: Float32Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.sqrt(sum / samples.length);
}

export function peak(samples: Float32Array): number {
  let max = 0;
  for (const s of samples) max = Math.max(max, Math.abs(s));
  return max;
}
