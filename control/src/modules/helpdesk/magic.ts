/**
 * What a file is, from its first bytes: the name and the client's Content-Type are claims, the
 * content is the fact. Only the types below are accepted as attachments; anything else
 * (executables, scripts, archives of unknown kind) is refused.
 */

export interface DetectedType {
  contentType: string;
  /** File name extensions that honestly name this type. */
  extensions: readonly string[];
}

const TYPES: Array<{ type: DetectedType; test: (b: Buffer) => boolean }> = [
  {
    type: { contentType: 'image/png', extensions: ['png'] },
    test: (b) =>
      b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  },
  {
    type: { contentType: 'image/jpeg', extensions: ['jpg', 'jpeg'] },
    test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  },
  {
    type: { contentType: 'image/gif', extensions: ['gif'] },
    test: (b) => /^GIF8[79]a/.test(b.subarray(0, 6).toString('latin1')),
  },
  {
    type: { contentType: 'image/webp', extensions: ['webp'] },
    test: (b) =>
      b.subarray(0, 4).toString('latin1') === 'RIFF' &&
      b.subarray(8, 12).toString('latin1') === 'WEBP',
  },
  {
    type: { contentType: 'audio/wav', extensions: ['wav'] },
    test: (b) =>
      b.subarray(0, 4).toString('latin1') === 'RIFF' &&
      b.subarray(8, 12).toString('latin1') === 'WAVE',
  },
  {
    type: { contentType: 'application/pdf', extensions: ['pdf'] },
    test: (b) => b.subarray(0, 5).toString('latin1') === '%PDF-',
  },
  {
    // Office documents (docx, xlsx, pptx, odt) are zip files.
    type: {
      contentType: 'application/zip',
      extensions: ['zip', 'docx', 'xlsx', 'pptx', 'odt', 'ods', 'odp'],
    },
    test: (b) => b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04,
  },
];

const TEXT: DetectedType = {
  contentType: 'text/plain',
  extensions: ['txt', 'log', 'csv', 'md', 'json', 'eml'],
};

/** Decodes as UTF-8 without replacement characters or control bytes other than white space. */
function looksLikeText(head: Buffer): boolean {
  if (head.length === 0) return false;
  // A multi-byte character cut at the end of the sniffed head is not a reason to refuse.
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
  } catch {
    return false;
  }
  // eslint-disable-next-line no-control-regex -- control bytes are exactly what is looked for
  return !/[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(text);
}

/** Bytes to read before deciding. */
export const SNIFF_BYTES = 4096;

/** The type of a file from its first bytes, or undefined when it is not one Calldock accepts. */
export function detectType(head: Buffer): DetectedType | undefined {
  for (const { type, test } of TYPES) if (test(head)) return type;
  return looksLikeText(head) ? TEXT : undefined;
}

/** Known extensions of every accepted type: a name ending in one of them claims that type. */
const CLAIMED = new Set([...TYPES.flatMap((t) => t.type.extensions), ...TEXT.extensions]);

/**
 * True when the name lies: its extension names an accepted type other than the content's.
 * An extension Calldock does not know (or none) makes no claim.
 */
export function nameContradicts(fileName: string, detected: DetectedType): boolean {
  const ext = /\.([a-z0-9]{1,8})$/i.exec(fileName)?.[1]?.toLowerCase();
  if (!ext) return false;
  if (
    [
      'exe',
      'dll',
      'bat',
      'cmd',
      'com',
      'msi',
      'scr',
      'js',
      'vbs',
      'ps1',
      'sh',
      'jar',
      'html',
      'htm',
      'svg',
    ].includes(ext)
  ) {
    return true;
  }
  return CLAIMED.has(ext) && !detected.extensions.includes(ext);
}
