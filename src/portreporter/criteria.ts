import * as fs from 'node:fs';
import { DataError, fileError } from '../errors';
import { type AddressMatcher, parseAddressMatcher } from './address';
import { basename, moduleMatcher, parsePortRanges, processMatcher, userMatcher, wildcard } from './filter';
import type { PortReporterRecord } from './record';

/**
 * Criteria of interest (schemas/criteria.schema.json), the original parser's "interesting" and
 * "suspicious" highlighting: ports, processes, modules, users, addresses and host names of interest,
 * and known process names running from an unexpected folder.
 */
export interface Criteria {
  Ports?: (number | string)[];
  Processes?: string[];
  Modules?: string[];
  Users?: string[];
  Addresses?: string[];
  HostNames?: string[];
  ExpectedFolders?: Record<string, string[]>;
  DefaultExpectedFolders?: boolean;
}

export interface CriteriaMatcher {
  /** Sets Flagged and FlagReasons on a record. */
  flag(r: PortReporterRecord): void;
  /** True when host-name criteria need reverse DNS. */
  readonly needsNames: boolean;
}

/** Where Windows' own processes live; a copy elsewhere is a classic disguise. */
export const DEFAULT_EXPECTED_FOLDERS: Readonly<Record<string, readonly string[]>> = {
  'svchost.exe': ['%SystemRoot%\\System32', '%SystemRoot%\\SysWOW64'],
  'lsass.exe': ['%SystemRoot%\\System32'],
  'services.exe': ['%SystemRoot%\\System32'],
  'csrss.exe': ['%SystemRoot%\\System32'],
  'smss.exe': ['%SystemRoot%\\System32'],
  'wininit.exe': ['%SystemRoot%\\System32'],
  'winlogon.exe': ['%SystemRoot%\\System32'],
  'lsm.exe': ['%SystemRoot%\\System32'],
  'spoolsv.exe': ['%SystemRoot%\\System32'],
  'taskhost.exe': ['%SystemRoot%\\System32'],
  'taskhostw.exe': ['%SystemRoot%\\System32'],
  'dllhost.exe': ['%SystemRoot%\\System32', '%SystemRoot%\\SysWOW64'],
  'rundll32.exe': ['%SystemRoot%\\System32', '%SystemRoot%\\SysWOW64'],
  'conhost.exe': ['%SystemRoot%\\System32'],
  'dwm.exe': ['%SystemRoot%\\System32'],
  'sihost.exe': ['%SystemRoot%\\System32'],
  'ctfmon.exe': ['%SystemRoot%\\System32', '%SystemRoot%\\SysWOW64'],
  'wmiprvse.exe': ['%SystemRoot%\\System32\\wbem', '%SystemRoot%\\SysWOW64\\wbem'],
  'msdtc.exe': ['%SystemRoot%\\System32'],
  'alg.exe': ['%SystemRoot%\\System32'],
  'searchindexer.exe': ['%SystemRoot%\\System32'],
  'cmd.exe': ['%SystemRoot%\\System32', '%SystemRoot%\\SysWOW64'],
  'powershell.exe': ['%SystemRoot%\\System32\\WindowsPowerShell\\v1.0', '%SystemRoot%\\SysWOW64\\WindowsPowerShell\\v1.0'],
  'explorer.exe': ['%SystemRoot%', '%SystemRoot%\\SysWOW64'],
};

const KEYS = ['$schema', 'Ports', 'Processes', 'Modules', 'Users', 'Addresses', 'HostNames', 'ExpectedFolders', 'DefaultExpectedFolders'];

/** Reads and checks a criteria file; a mistake is a one-line DataError naming the file and the key. */
export function loadCriteria(file: string): CriteriaMatcher {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (err) {
    throw fileError(err, file);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new DataError(`criteria file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  return compileCriteria(checkCriteria(value, file), file);
}

export function checkCriteria(value: unknown, file: string): Criteria {
  const bad = (what: string) => new DataError(`criteria file ${file}: ${what} (see schemas/criteria.schema.json)`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('expected a JSON object');
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!KEYS.includes(key)) throw bad(`unknown key "${key}"; known keys: ${KEYS.slice(1).join(', ')}`);
  for (const key of ['Processes', 'Modules', 'Users', 'Addresses', 'HostNames']) {
    const v = o[key];
    if (v !== undefined && (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === ''))) throw bad(`"${key}" must be a list of non-empty strings`);
  }
  if (o.Ports !== undefined && (!Array.isArray(o.Ports) || o.Ports.some((p) => typeof p !== 'string' && !Number.isInteger(p)))) throw bad('"Ports" must be a list of port numbers or "low-high" ranges');
  if (o.ExpectedFolders !== undefined) {
    const ef = o.ExpectedFolders;
    if (typeof ef !== 'object' || ef === null || Array.isArray(ef)) throw bad('"ExpectedFolders" must map process names to lists of folders');
    for (const [name, folders] of Object.entries(ef)) {
      if (!Array.isArray(folders) || folders.length === 0 || folders.some((f) => typeof f !== 'string' || f === '')) throw bad(`"ExpectedFolders"."${name}" must be a non-empty list of folders`);
    }
  }
  if (o.DefaultExpectedFolders !== undefined && typeof o.DefaultExpectedFolders !== 'boolean') throw bad('"DefaultExpectedFolders" must be true or false');
  return o as Criteria;
}

export function compileCriteria(c: Criteria, file = 'criteria'): CriteriaMatcher {
  let ports: [number, number][];
  try {
    ports = parsePortRanges('port', (c.Ports ?? []).map(String));
  } catch (err) {
    throw new DataError(`criteria file ${file}: "Ports": ${(err as Error).message}`);
  }
  const processes = (c.Processes ?? []).map((p) => ({ p, test: processMatcher(p) }));
  const modules = (c.Modules ?? []).map(moduleMatcher);
  const users = (c.Users ?? []).map((u) => ({ u, test: userMatcher(u) }));
  let addresses: AddressMatcher[];
  try {
    addresses = (c.Addresses ?? []).map((a) => parseAddressMatcher(a, 'address'));
  } catch (err) {
    throw new DataError(`criteria file ${file}: "Addresses": ${(err as Error).message}`);
  }
  const hosts = (c.HostNames ?? []).map((h) => ({ h, re: wildcard(h) }));
  const folders = new Map<string, string[]>();
  if (c.DefaultExpectedFolders !== false) for (const [name, list] of Object.entries(DEFAULT_EXPECTED_FOLDERS)) folders.set(name, [...list]);
  for (const [name, list] of Object.entries(c.ExpectedFolders ?? {})) folders.set(name.toLowerCase(), list);
  const expected = new Map([...folders].map(([name, list]) => [name, { list, normalized: list.map(normalizeFolder) }]));

  return {
    needsNames: hosts.length > 0,
    flag(r) {
      const reasons: string[] = [];
      for (const [lo, hi] of ports) {
        const hit = [r.LocalPort, r.RemotePort].find((p) => p !== null && p >= lo && p <= hi);
        if (hit !== undefined) reasons.push(`port ${hit}`);
      }
      for (const { p, test } of processes) if (test(r)) reasons.push(`process ${p}`);
      for (const m of modules) {
        const hit = m(r);
        if (hit !== undefined) reasons.push(`module ${hit}`);
      }
      for (const { u, test } of users) if (test(r)) reasons.push(`user ${u}`);
      for (const a of addresses) {
        const hit = [r.RemoteAddress, r.LocalAddress].find((x) => a.matches(x));
        if (hit) reasons.push(hit === a.text ? `address ${hit}` : `address ${hit} in ${a.text}`);
      }
      if (r.RemoteHostName) for (const { h, re } of hosts) if (re.test(r.RemoteHostName)) reasons.push(`host ${r.RemoteHostName}`);
      if (r.ProcessPath) {
        const name = basename(r.ProcessPath).toLowerCase();
        const want = expected.get(name) ?? (r.ProcessName ? expected.get(r.ProcessName.toLowerCase()) : undefined);
        if (want) {
          const dir = normalizeFolder(r.ProcessPath.slice(0, r.ProcessPath.length - basename(r.ProcessPath).length));
          if (!want.normalized.includes(dir)) reasons.push(`${name} runs from an unexpected folder ${r.ProcessPath} (expected ${want.list.join(' or ')})`);
        }
      }
      r.Flagged = reasons.length > 0;
      r.FlagReasons = reasons;
    },
  };
}

/** Lower case, backslashes, no trailing separator, `\\?\` and `\??\` gone, the Windows folder as %systemroot%. */
export function normalizeFolder(folder: string): string {
  let f = folder.toLowerCase().replace(/\//g, '\\').replace(/^\\\\\?\\|^\\\?\?\\/, '').replace(/\\+$/, '');
  f = f.replace(/^%windir%/, '%systemroot%').replace(/^\\systemroot(?=\\|$)/, '%systemroot%').replace(/^[a-z]:\\(?:windows|winnt)(?=\\|$)/, '%systemroot%');
  return f;
}
