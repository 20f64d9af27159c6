import * as dns from 'node:dns';
import * as net from 'node:net';
import type { ReverseResolver } from '../dns/reverse';
import { ExitCode } from '../exit-codes';
import { PortqryError } from '../errors';

export interface ResolvedTarget {
  /** What the user typed. */
  target: string;
  address: string;
  /** Reverse name for an address, or the typed name; null if not looked up or not found. */
  hostName: string | null;
  /** PortQry's resolution lines, for text output. */
  notes: string[];
}

/**
 * PortQry's name handling: a name is resolved to an address ("Name resolved to …"); an address is
 * looked up in reverse unless -nr ("IP address resolved to …" / "Failed to resolve IP address to
 * name"). A name that does not resolve is an error (PortQry: "Failed to resolve name to IP address").
 */
export async function resolveTarget(target: string, reverse: ReverseResolver | null, timeoutMs = 3000): Promise<ResolvedTarget> {
  const literal = target.replace(/^\[(.*)\]$/, '$1');
  if (net.isIP(literal)) {
    if (!reverse) return { target, address: literal, hostName: null, notes: [] };
    // src/dns/reverse.ts: bounded by its own timeout and cancelled when the run ends.
    const name = await reverse.reverse(literal);
    const found = name && name !== literal ? name : null;
    return {
      target,
      address: literal,
      hostName: found,
      notes: ['Attempting to resolve IP address to a name...', '', found ? `IP address resolved to ${found}` : 'Failed to resolve IP address to name', ''],
    };
  }
  try {
    const { address } = await withTimeout(dns.promises.lookup(literal), timeoutMs);
    return { target, address, hostName: literal, notes: ['Attempting to resolve name to IP address...', '', `Name resolved to ${address}`, ''] };
  } catch {
    throw new PortqryError(`Failed to resolve name to IP address: ${target}`, ExitCode.NoHost);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    timer.unref();
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
