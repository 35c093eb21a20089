/**
 * A minimal SIP UDP client that sends one REGISTER (answering a digest challenge once) from a
 * chosen local address. Linux routes all of 127.0.0.0/8 to the loopback interface, so a socket
 * bound to 127.0.0.2 reaches an Asterisk on 127.0.0.1 as a second, distinct source address.
 */
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';

export interface RegisterOptions {
  /** Local address to send from (127.0.0.2 …). */
  from: string;
  host: string;
  port: number;
  username: string;
  password: string;
  /** How long to wait for each answer; silence is reported as `timeout`. */
  timeoutMs?: number;
  expires?: number;
}

/** The final status code, or `timeout` when Asterisk did not answer at all. */
export type RegisterOutcome = number | 'timeout';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const token = () => randomBytes(8).toString('hex');

function statusOf(message: string): number | undefined {
  const m = message.match(/^SIP\/2\.0 (\d{3})/);
  return m ? Number(m[1]) : undefined;
}

function header(message: string, name: string): string | undefined {
  const re = new RegExp(`^${name}:\\s*(.*)$`, 'im');
  return message.match(re)?.[1]?.trim();
}

function digestParams(value: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const m of value.replace(/^Digest\s+/i, '').matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)) {
    params[m[1]!.toLowerCase()] = m[2] ?? m[3] ?? '';
  }
  return params;
}

export async function register(options: RegisterOptions): Promise<RegisterOutcome> {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: options.from, port: 0 }, () => resolve());
  });
  const local = socket.address();
  const target = `${options.host}:${options.port}`;
  const uri = `sip:${target}`;
  const callId = `${token()}@${local.address}`;
  const fromTag = token();
  const replies: string[] = [];
  let wake: (() => void) | undefined;
  socket.on('message', (msg) => {
    replies.push(msg.toString('utf8'));
    wake?.();
  });

  /** The next final answer (>= 200) to this CSeq, skipping provisional ones. */
  const finalAnswer = (cseq: number) =>
    new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => done(undefined), timeoutMs);
      const done = (value: string | undefined) => {
        clearTimeout(timer);
        wake = undefined;
        resolve(value);
      };
      const check = () => {
        const i = replies.findIndex(
          (r) => (statusOf(r) ?? 0) >= 200 && header(r, 'CSeq')?.startsWith(`${cseq} `),
        );
        if (i >= 0) done(replies.splice(i, 1)[0]);
      };
      wake = check;
      check();
    });

  const send = (cseq: number, authorization?: string) => {
    const lines = [
      `REGISTER ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${local.address}:${local.port};branch=z9hG4bK${token()};rport`,
      'Max-Forwards: 70',
      `From: <sip:${options.username}@${target}>;tag=${fromTag}`,
      `To: <sip:${options.username}@${target}>`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} REGISTER`,
      `Contact: <sip:${options.username}@${local.address}:${local.port}>`,
      `Expires: ${options.expires ?? 60}`,
      'User-Agent: calldock-test',
      ...(authorization ? [`Authorization: ${authorization}`] : []),
      'Content-Length: 0',
      '',
      '',
    ];
    socket.send(lines.join('\r\n'), options.port, options.host);
  };

  try {
    send(1);
    const first = await finalAnswer(1);
    if (first === undefined) return 'timeout';
    const status = statusOf(first) ?? 0;
    const challenge = header(first, 'WWW-Authenticate');
    if (status !== 401 || !challenge) return status;
    const p = digestParams(challenge);
    const realm = p.realm ?? '';
    const nonce = p.nonce ?? '';
    const ha1 = md5(`${options.username}:${realm}:${options.password}`);
    const ha2 = md5(`REGISTER:${uri}`);
    const cnonce = token();
    const nc = '00000001';
    const qop = p.qop?.split(',').map((q) => q.trim()).includes('auth') ? 'auth' : undefined;
    const response = qop
      ? md5(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`)
      : md5(`${ha1}:${nonce}:${ha2}`);
    const parts = [
      `username="${options.username}"`,
      `realm="${realm}"`,
      `nonce="${nonce}"`,
      `uri="${uri}"`,
      `response="${response}"`,
      'algorithm=MD5',
      ...(p.opaque !== undefined ? [`opaque="${p.opaque}"`] : []),
      ...(qop ? [`qop=${qop}`, `nc=${nc}`, `cnonce="${cnonce}"`] : []),
    ];
    send(2, `Digest ${parts.join(', ')}`);
    const second = await finalAnswer(2);
    return second === undefined ? 'timeout' : (statusOf(second) ?? 0);
  } finally {
    socket.close();
  }
}
