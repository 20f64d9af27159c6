import { toAsciiJson } from './json';
import type { Style } from './style';

/** The subset of JSON Schema 2020-12 this module reads; schemas/*.schema.json are the full contract. */
export interface RecordSchema {
  $id: string;
  title: string;
  properties: Record<string, { type?: string | string[]; format?: string; description?: string; [k: string]: unknown }>;
  [k: string]: unknown;
}

export type FieldValue = string | number | boolean | null | readonly unknown[] | { readonly [k: string]: unknown };
export type OutputRecord = Record<string, unknown>;

/**
 * A kind of record the tool emits. Its keys and their order come from its schema's `properties`, so the
 * schema file is the single source of truth: a key cannot be added, renamed or reordered in code alone.
 */
export interface RecordKind {
  readonly name: string;
  readonly schema: RecordSchema;
  readonly keys: readonly string[];
  /** Keys whose schema format is date-time or iso-date-time (zone optional), rendered for Excel in CSV. */
  readonly dateTimeKeys: ReadonlySet<string>;
  /** Columns for `--format table`; default: every key whose values are scalars. */
  readonly tableColumns: readonly string[];
  /** Human text for one record (lines without trailing newline); default: a `Key : Value` list. */
  readonly text?: (record: OutputRecord, style: Style) => string[];
  /** Text printed once before the first record of this kind in text format (e.g. PortQry's preamble). */
  readonly textHeader?: (style: Style) => string[];
}

export interface RecordKindOptions {
  tableColumns?: readonly string[];
  text?: RecordKind['text'];
  textHeader?: RecordKind['textHeader'];
}

export function defineRecordKind(schema: RecordSchema, options: RecordKindOptions = {}): RecordKind {
  const keys = Object.keys(schema.properties);
  const dateTimeKeys = new Set(keys.filter((k) => ['date-time', 'iso-date-time'].includes(schema.properties[k]?.format ?? '')));
  const scalar = keys.filter((k) => {
    const t = schema.properties[k]?.type;
    const types = Array.isArray(t) ? t : [t];
    return !types.includes('object') && !types.includes('array');
  });
  for (const column of options.tableColumns ?? []) {
    if (!keys.includes(column)) throw new Error(`${schema.title}: table column ${column} is not in the schema`);
  }
  return {
    name: schema.title,
    schema,
    keys,
    dateTimeKeys,
    tableColumns: options.tableColumns ?? scalar,
    text: options.text,
    textHeader: options.textHeader,
  };
}

/**
 * Puts a record in its kind's shape: every key present, in schema order, `null` for unknown, dates as
 * ISO 8601 UTC, bigint as a decimal string (64-bit values lose precision as JSON numbers).
 * A key the schema does not know is a programming error and throws.
 */
export function normalizeRecord(kind: RecordKind, record: OutputRecord): OutputRecord {
  for (const key of Object.keys(record)) {
    if (!kind.schema.properties[key]) throw new Error(`${kind.name}: key ${key} is not in schema ${kind.schema.$id}`);
  }
  const out: OutputRecord = {};
  for (const key of kind.keys) out[key] = normalizeValue(record[key]);
  return out;
}

function normalizeValue(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  if (Array.isArray(value)) return value.map(normalizeValue);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = normalizeValue(v);
    return out;
  }
  return value;
}

// Characters that JSON.stringify would escape, or that toAsciiJson turns into \uXXXX.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\uffff]/;
// A record's keys are checked against the schema for each of the first records of a kind, then for
// one in CHECK_EVERY: the check is for programming errors, and doing it on every record of a
// multi-gigabyte parse would cost more than the serialization itself.
const CHECK_FIRST = 256;
const CHECK_EVERY = 256;
const jsonState = new WeakMap<RecordKind, { prefixes: string[]; count: number }>();

/**
 * One record as one line of ASCII JSON: exactly toAsciiJson(normalizeRecord(kind, record)), in one
 * pass without the intermediate object (the hot path of jsonl/json output: parse writes millions).
 */
export function recordToJson(kind: RecordKind, record: OutputRecord): string {
  let state = jsonState.get(kind);
  if (!state) {
    state = { prefixes: kind.keys.map((k, i) => `${i === 0 ? '{' : ','}${toAsciiJson(k)}:`), count: 0 };
    jsonState.set(kind, state);
  }
  const n = state.count++;
  if (n < CHECK_FIRST || n % CHECK_EVERY === 0) {
    for (const key in record) {
      if (!kind.schema.properties[key]) throw new Error(`${kind.name}: key ${key} is not in schema ${kind.schema.$id}`);
    }
  }
  const keys = kind.keys;
  const prefixes = state.prefixes;
  let out = '';
  for (let i = 0; i < keys.length; i++) out += prefixes[i] + valueToJson(record[keys[i]!]);
  return keys.length === 0 ? '{}' : `${out}}`;
}

// Strings that need escaping repeat a lot in logs (every DOMAIN\user has a backslash): a bounded cache.
const escaped = new Map<string, string>();

function escapedString(value: string): string {
  let json = escaped.get(value);
  if (json === undefined) {
    json = toAsciiJson(value);
    if (value.length <= 256) {
      if (escaped.size >= 4096) escaped.clear();
      escaped.set(value, json);
    }
  }
  return json;
}

function valueToJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return NEEDS_ESCAPE.test(value) ? escapedString(value) : `"${value}"`;
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return 'null';
    case 'bigint':
      return `"${value.toString()}"`;
    default:
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const v = value[i];
          const t = typeof v;
          // Nested objects and arrays take the general path, which normalizes them first.
          out += (i === 0 ? '' : ',') + (v !== null && (t === 'object' || t === 'function' || t === 'symbol') ? toAsciiJson(normalizeValue(v)) : valueToJson(v));
        }
        return `${out}]`;
      }
      return toAsciiJson(normalizeValue(value));
  }
}
