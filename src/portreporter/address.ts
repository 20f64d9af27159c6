import { ipVersion } from './ip-text';
import { UsageError } from '../errors';

/**
 * Addresses and CIDR blocks (`10.0.0.5`, `10.0.0.0/8`, `fe80::/10`) for --ip and criteria files. IPv4
 * and IPv6 are compared as big integers; an IPv4-mapped IPv6 address (::ffff:10.0.0.5) matches its
 * IPv4 block.
 */
export interface AddressMatcher {
  readonly text: string;
  matches(address: string | null): boolean;
}

export function parseAddressMatcher(text: string, what = '--ip'): AddressMatcher {
  const t = text.trim();
  const slash = t.indexOf('/');
  const addr = slash < 0 ? t : t.slice(0, slash);
  const parsed = toBigInt(addr);
  const bits = parsed?.family === 4 ? 32 : 128;
  const prefix = slash < 0 ? bits : /^\d{1,3}$/.test(t.slice(slash + 1)) ? Number(t.slice(slash + 1)) : -1;
  if (!parsed || prefix < 0 || prefix > bits) {
    throw new UsageError(`invalid ${what} '${text}': expected an IP address or a CIDR block such as 10.0.0.0/8`);
  }
  const shift = BigInt(bits - prefix);
  const network = (parsed.value >> shift) << shift;
  const family = parsed.family;
  return {
    text: t,
    matches(address) {
      if (!address) return false;
      const a = toBigInt(address);
      if (!a) return false;
      let value = a.value;
      if (a.family !== family) {
        // ::ffff:a.b.c.d against an IPv4 block.
        if (family === 4 && a.family === 6 && value >> 32n === 0xffffn) value &= 0xffffffffn;
        else return false;
      }
      return (value >> shift) << shift === network;
    },
  };
}

const cache = new Map<string, { family: 4 | 6; value: bigint } | null>();

function toBigInt(address: string): { family: 4 | 6; value: bigint } | null {
  const hit = cache.get(address);
  if (hit !== undefined) return hit;
  const result = convert(address);
  if (cache.size > 10_000) cache.clear();
  cache.set(address, result);
  return result;
}

function convert(address: string): { family: 4 | 6; value: bigint } | null {
  const a = address.replace(/%.*$/, '');
  const family = ipVersion(a);
  if (family === 4) return { family: 4, value: v4(a) };
  if (family !== 6) return null;
  let text = a;
  // Embedded IPv4 tail (::ffff:10.0.0.5) as two hex groups.
  const v4tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4tail) {
    const n = v4(v4tail[1]!);
    text = `${text.slice(0, -v4tail[1]!.length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(parseInt(g, 16));
  return { family: 6, value };
}

function v4(a: string): bigint {
  return a.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
}
