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
/** A criterion with the line an administrator should read when it matches (FlagReasons, record's alerts). */
export interface WithMessage<T> {
  Value: T;
  Message?: string;
}

export type Criterion<T> = T | WithMessage<T>;

export interface Criteria {
  Ports?: Criterion<number | string>[];
  Processes?: Criterion<string>[];
  Modules?: Criterion<string>[];
  Users?: Criterion<string>[];
  Addresses?: Criterion<string>[];
  HostNames?: Criterion<string>[];
  ExpectedFolders?: Record<string, string[]>;
  DefaultExpectedFolders?: boolean;
}

/** One criterion that matched: which one (`Ports[1]`, `ExpectedFolders.svchost.exe`) and the reason shown. */
export interface CriteriaMatch {
  criterion: string;
  reason: string;
}

export interface CriteriaMatcher {
  /** Sets Flagged and FlagReasons on a record. */
  flag(r: PortReporterRecord): void;
  /** The criteria a record matches, in FlagReasons order. */
  matches(r: PortReporterRecord): CriteriaMatch[];
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
  // Each item is the value itself or { "Value": value, "Message": "what it means" }.
  const items = (key: string): unknown[] | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) return [Symbol('not a list')];
    return v.map((x) => {
      if (typeof x !== 'object' || x === null || Array.isArray(x)) return x;
      const w = x as Record<string, unknown>;
      for (const k of Object.keys(w)) if (k !== 'Value' && k !== 'Message') throw bad(`"${key}": unknown key "${k}" in an item; an item is a value or {"Value": …, "Message": "…"}`);
      if (w.Message !== undefined && (typeof w.Message !== 'string' || w.Message.trim() === '')) throw bad(`"${key}": "Message" must be a non-empty string`);
      return w.Value;
    });
  };
  for (const key of ['Processes', 'Modules', 'Users', 'Addresses', 'HostNames']) {
    const v = items(key);
    if (v !== undefined && v.some((x) => typeof x !== 'string' || x === '')) throw bad(`"${key}" must be a list of non-empty strings (or {"Value": "…", "Message": "…"})`);
  }
  const ports = items('Ports');
  if (ports !== undefined && ports.some((p) => typeof p !== 'string' && !Number.isInteger(p))) throw bad('"Ports" must be a list of port numbers or "low-high" ranges');
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

/** The items of one criteria list with their ids (`Ports[0]`) and messages. */
function entries<T>(key: string, list: Criterion<T>[] | undefined): { value: T; id: string; message: string | undefined }[] {
  return (list ?? []).map((item, i) => {
    const withMessage = typeof item === 'object' && item !== null;
    return { value: withMessage ? (item as WithMessage<T>).Value : (item as T), id: `${key}[${i}]`, message: withMessage ? (item as WithMessage<T>).Message : undefined };
  });
}

/** The reason as FlagReasons shows it: `port 4444`, or `port 4444: Metasploit's default` with a Message. */
function reasonText(reason: string, message: string | undefined): string {
  return message ? `${reason}: ${message}` : reason;
}

export function compileCriteria(c: Criteria, file = 'criteria'): CriteriaMatcher {
  let ports: { range: [number, number]; id: string; message: string | undefined }[];
  try {
    ports = entries('Ports', c.Ports).map((e) => ({ range: parsePortRanges('port', [String(e.value)])[0]!, id: e.id, message: e.message }));
  } catch (err) {
    throw new DataError(`criteria file ${file}: "Ports": ${(err as Error).message}`);
  }
  const processes = entries('Processes', c.Processes).map((e) => ({ ...e, test: processMatcher(e.value) }));
  const modules = entries('Modules', c.Modules).map((e) => ({ ...e, test: moduleMatcher(e.value) }));
  const users = entries('Users', c.Users).map((e) => ({ ...e, test: userMatcher(e.value) }));
  let addresses: { a: AddressMatcher; id: string; message: string | undefined }[];
  try {
    addresses = entries('Addresses', c.Addresses).map((e) => ({ a: parseAddressMatcher(e.value, 'address'), id: e.id, message: e.message }));
  } catch (err) {
    throw new DataError(`criteria file ${file}: "Addresses": ${(err as Error).message}`);
  }
  const hosts = entries('HostNames', c.HostNames).map((e) => ({ ...e, re: wildcard(e.value) }));
  const folders = new Map<string, string[]>();
  if (c.DefaultExpectedFolders !== false) for (const [name, list] of Object.entries(DEFAULT_EXPECTED_FOLDERS)) folders.set(name, [...list]);
  for (const [name, list] of Object.entries(c.ExpectedFolders ?? {})) folders.set(name.toLowerCase(), list);
  const expected = new Map([...folders].map(([name, list]) => [name, { list, normalized: list.map(normalizeFolder) }]));

  const matches = (r: PortReporterRecord): CriteriaMatch[] => {
    const out: CriteriaMatch[] = [];
    const add = (criterion: string, reason: string, message: string | undefined) => out.push({ criterion, reason: reasonText(reason, message) });
    for (const { range: [lo, hi], id, message } of ports) {
      const hit = [r.LocalPort, r.RemotePort].find((p) => p !== null && p >= lo && p <= hi);
      if (hit !== undefined) add(id, `port ${hit}`, message);
    }
    for (const { value, test, id, message } of processes) if (test(r)) add(id, `process ${value}`, message);
    for (const { test, id, message } of modules) {
      const hit = test(r);
      if (hit !== undefined) add(id, `module ${hit}`, message);
    }
    for (const { value, test, id, message } of users) if (test(r)) add(id, `user ${value}`, message);
    for (const { a, id, message } of addresses) {
      const hit = [r.RemoteAddress, r.LocalAddress].find((x) => a.matches(x));
      if (hit) add(id, hit === a.text ? `address ${hit}` : `address ${hit} in ${a.text}`, message);
    }
    if (r.RemoteHostName) for (const { re, id, message } of hosts) if (re.test(r.RemoteHostName)) add(id, `host ${r.RemoteHostName}`, message);
    if (r.ProcessPath) {
      const name = basename(r.ProcessPath).toLowerCase();
      const key = expected.has(name) ? name : r.ProcessName?.toLowerCase();
      const want = key === undefined ? undefined : expected.get(key);
      if (want) {
        const dir = normalizeFolder(r.ProcessPath.slice(0, r.ProcessPath.length - basename(r.ProcessPath).length));
        if (!want.normalized.includes(dir)) add(`ExpectedFolders.${key}`, `${name} runs from an unexpected folder ${r.ProcessPath} (expected ${want.list.join(' or ')})`, undefined);
      }
    }
    return out;
  };
  return {
    needsNames: hosts.length > 0,
    matches,
    flag(r) {
      const reasons = matches(r).map((m) => m.reason);
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
