import { ProbeDecodeError } from '../../src/query/probes/types';

/**
 * Feeds a decoder every prefix of a valid reply and copies with single bytes changed: each call must
 * either return fields or throw ProbeDecodeError, never anything else. Returns the failures so the
 * test can assert an empty list (one assertion instead of thousands).
 */
export function decoderFailures(decode: (b: Buffer) => unknown, valid: Buffer, seed = 1): string[] {
  const failures: string[] = [];
  const check = (input: Buffer, what: string) => {
    try {
      decode(input);
    } catch (e) {
      if (!(e instanceof ProbeDecodeError)) failures.push(`${what}: ${(e as Error).stack ?? String(e)}`);
    }
  };
  for (let n = 0; n < valid.length; n++) check(valid.subarray(0, n), `prefix of ${n} bytes`);
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) & 0x7fffffff);
  for (let i = 0; i < 2000; i++) {
    const copy = Buffer.from(valid);
    const flips = 1 + (random() % 3);
    for (let f = 0; f < flips; f++) copy[random() % copy.length] = random() & 0xff;
    check(copy, `mutation ${i} (${copy.toString('hex')})`);
  }
  return failures;
}

/** Whether every proper prefix is rejected (a cut reply must not decode as if it were whole). */
export function acceptedPrefixes(decode: (b: Buffer) => unknown, valid: Buffer): number[] {
  const accepted: number[] = [];
  for (let n = 0; n < valid.length; n++) {
    try {
      decode(valid.subarray(0, n));
      accepted.push(n);
    } catch {
      /* rejected, as it should be */
    }
  }
  return accepted;
}
