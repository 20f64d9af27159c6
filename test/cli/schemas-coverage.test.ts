import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import t from 'tap';
import { parseJsonl, ROOT, runCli } from '../helpers/cli';
import { schemaErrors, schemaKeys } from '../helpers/schema';

/*
 * The schemas are the public contract: every kind of record the tool emits (every defineRecordKind in
 * src/) must come out of a real command and validate against its schema. This runs one command line
 * per kind, on loopback and on the test fixtures, and fails when a new kind has no command here.
 * Each command's own tests check the values; this checks that no kind is left out of the contract.
 */

/** The schema files that defineRecordKind is called with, read from the sources. */
function recordKindSchemas(): string[] {
  const found = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (file.endsWith('.ts')) {
        const source = fs.readFileSync(file, 'utf8');
        if (!/defineRecordKind\(schema as /.test(source)) continue; // a use, not the definition
        const schema = /import schema from '[./]*schemas\/([\w-]+\.schema\.json)'/.exec(source);
        if (schema) found.add(schema[1]!);
        else found.add(`(no schema import in ${path.relative(ROOT, file)})`);
      }
    }
  };
  for (const dir of ['src', 'commands']) walk(path.join(ROOT, dir));
  return [...found].sort();
}

const SCHEMAS = fs.readdirSync(path.join(ROOT, 'schemas')).filter((f) => f.endsWith('.schema.json'));
const KEYS = new Map(SCHEMAS.map((f) => [f, schemaKeys(f).join(',')]));

/** The schema(s) a record is valid against among those with exactly its keys in its order. */
function kindsOf(record: Record<string, unknown>): string[] {
  const keys = Object.keys(record).join(',');
  return SCHEMAS.filter((f) => KEYS.get(f) === keys && schemaErrors(f, record).length === 0);
}

t.test('every record kind comes out of a real command and validates against its schema', async (t) => {
  const server = net.createServer((s) => s.on('error', () => {}).end()); // the query resets: not our error
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => void server.close());
  const port = String((server.address() as net.AddressInfo).port);

  const commands: string[][] = [
    ['query', '-n', '127.0.0.1', '-e', port, '-nr', '--json'],
    ['query', '--preset', 'list', '--json'],
    ['query', '-local', '--json'],
    ['query', '-wport', port, '-wt', '1', '--duration', '1s', '--json'],
    ['record', '--once', '--json'],
    ['record', '--install', '--dry-run', '--json'],
    ['self-check', '--json'],
    ['parse', path.join(ROOT, 'test', 'fixtures', 'portreporter', 'ours'), '--json'],
    ['stats', path.join(ROOT, 'test', 'fixtures', 'stats', 'logs'), '--utc-offset', '+00:00', '--json'],
    ['stats', path.join(ROOT, 'test', 'fixtures', 'stats', 'logs'), '--utc-offset', '+00:00', '--partial'],
  ];
  const seen = new Map<string, string>();
  for (const args of commands) {
    const r = await runCli(args);
    const line = `portqry-ts ${args.join(' ')}`;
    t.equal(r.stderr, '', `${line}: nothing on stderr`);
    const records = parseJsonl(r.stdout);
    t.ok(records.length > 0, `${line}: records`);
    const invalid = records.filter((rec) => kindsOf(rec).length === 0);
    t.same(invalid.slice(0, 3), [], `${line}: every record valid against a schema with its keys, in order`);
    for (const rec of records) for (const kind of kindsOf(rec)) if (!seen.has(kind)) seen.set(kind, line);
  }
  const kinds = recordKindSchemas();
  t.ok(kinds.length > 10, `the source scan finds the record kinds (${kinds.length})`);
  t.same(kinds.filter((schema) => !seen.has(schema)), [], 'every schema given to defineRecordKind is emitted by one of the commands above');
});
