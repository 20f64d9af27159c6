import * as fs from 'node:fs';
import * as path from 'node:path';
// Explicit .js: under tap every resolver in the loader chain must find it, not only tsx.
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { ROOT } from './cli';

const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats(ajv);
for (const file of fs.readdirSync(path.join(ROOT, 'schemas'))) {
  if (file.endsWith('.schema.json')) ajv.addSchema(JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas', file), 'utf8')), file);
}

/** Validates a record against schemas/<file>; returns a readable list of errors, empty when valid. */
export function schemaErrors(file: string, record: unknown): string[] {
  const validate = ajv.getSchema(file);
  if (!validate) throw new Error(`no schema ${file}`);
  if (validate(record)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

/** The property names of a schema in order: the key order every record of that kind must have. */
export function schemaKeys(file: string): string[] {
  const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas', file), 'utf8'));
  return Object.keys(schema.properties);
}

/** Probes whose ProbeData has another probe's shape: they share its decoder. */
const SHARED_PROBE_DATA: Record<string, string> = {
  smtp: 'greeting', pop3: 'greeting', imap: 'greeting', cldap: 'ldap', 'dns-tcp': 'dns', 'kerberos-tcp': 'kerberos',
};

/** The schema of a probe's ProbeData (schemas/probe-data-*.schema.json), by probe name. */
export function probeDataSchema(probe: string): string {
  return `probe-data-${SHARED_PROBE_DATA[probe] ?? probe}.schema.json`;
}
