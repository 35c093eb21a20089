/**
 * IP addresses and networks as PJSIP `identify` objects match them: `192.0.2.7`,
 * `192.0.2.0/24`, `192.0.2.7:5060`, `2001:db8::/32`, `[2001:db8::1]:5060`. Also reads the form
 * Asterisk prints back (`192.0.2.0/255.255.255.0`, `127.0.0.1:5060/255.255.255.255`), so a
 * pushed object can be compared with what Asterisk holds.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface IpMatch {
  family: 4 | 6;
  /** The network address (host bits cleared). */
  network: bigint;
  /** Prefix length. */
  bits: number;
  /** Only this source port matches; undefined = any port. */
  port: number | undefined;
}

const width = (family: 4 | 6) => (family === 4 ? 32 : 128);

function ipToBigInt(ip: string): bigint | undefined {
  if (isIPv4(ip)) {
    return ip.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
  }
  if (!isIPv6(ip) || ip.includes('.')) return undefined; // IPv4-mapped forms: not supported
  const [head = '', tail] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function bigIntToIp(value: bigint, family: 4 | 6): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join('.');
  }
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map(
    (shift) => (value >> shift) & 0xffffn,
  );
  // Compress the longest run of zero groups, as RFC 5952 says.
  let best = { start: -1, len: 0 };
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0n) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0n) j++;
    if (j - i > best.len && j - i > 1) best = { start: i, len: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.start < 0) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.len).join(':')}`;
}

function maskBits(mask: string, family: 4 | 6): number | undefined {
  if (/^\d{1,3}$/.test(mask)) {
    const bits = Number(mask);
    return bits <= width(family) ? bits : undefined;
  }
  // A netmask written out (Asterisk prints these): contiguous ones, then zeros.
  if ((family === 4 && !isIPv4(mask)) || (family === 6 && !isIPv6(mask))) return undefined;
  const value = ipToBigInt(mask);
  if (value === undefined) return undefined;
  const bin = value.toString(2).padStart(width(family), '0');
  if (!/^1*0*$/.test(bin)) return undefined;
  const firstZero = bin.indexOf('0');
  return firstZero === -1 ? width(family) : firstZero;
}

/** Parses one entry; undefined when it is not an address or network this module accepts. */
export function parseIpMatch(raw: string): IpMatch | undefined {
  const entry = raw.trim();
  const slash = entry.lastIndexOf('/');
  const addrPart = slash >= 0 ? entry.slice(0, slash) : entry;
  const maskPart = slash >= 0 ? entry.slice(slash + 1) : undefined;

  let ip = addrPart;
  let port: number | undefined;
  const bracketed = addrPart.match(/^\[([^\]]+)\](?::(\d{1,5}))?$/);
  const v4WithPort = addrPart.match(/^([\d.]+):(\d{1,5})$/);
  if (bracketed) {
    ip = bracketed[1] ?? '';
    port = bracketed[2] !== undefined ? Number(bracketed[2]) : undefined;
  } else if (v4WithPort) {
    ip = v4WithPort[1] ?? '';
    port = Number(v4WithPort[2]);
  }
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  const family = isIPv4(ip) ? 4 : isIPv6(ip) ? 6 : undefined;
  if (!family) return undefined;
  const value = ipToBigInt(ip);
  if (value === undefined) return undefined;
  const bits = maskPart === undefined ? width(family) : maskBits(maskPart, family);
  if (bits === undefined) return undefined;
  // A port narrows a single host; "a network, but only from port 5060" is not something
  // Calldock offers.
  if (port !== undefined && bits !== width(family)) return undefined;
  const hostBits = BigInt(width(family) - bits);
  const network = (value >> hostBits) << hostBits;
  return { family, network, bits, port };
}

/** The form pushed to Asterisk: `192.0.2.7`, `192.0.2.0/24`, `192.0.2.7:5060`, `[2001:db8::1]:5060`. */
export function formatIpMatch(m: IpMatch): string {
  const ip = bigIntToIp(m.network, m.family);
  if (m.port !== undefined) return m.family === 4 ? `${ip}:${m.port}` : `[${ip}]:${m.port}`;
  return m.bits === width(m.family) ? ip : `${ip}/${m.bits}`;
}

/** A key that is equal for two entries exactly when they match the same sources. */
export function ipMatchKey(m: IpMatch): string {
  return `${m.family}|${m.network.toString(16)}|${m.bits}|${m.port ?? '*'}`;
}

/** True when some source address (and port) would match both. */
export function ipMatchesOverlap(a: IpMatch, b: IpMatch): boolean {
  if (a.family !== b.family) return false;
  if (a.port !== undefined && b.port !== undefined && a.port !== b.port) return false;
  const bits = BigInt(width(a.family) - Math.min(a.bits, b.bits));
  return a.network >> bits === b.network >> bits;
}
