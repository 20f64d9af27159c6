// The Windows executable's own identity, written into node.exe's PE resources before the SEA blob is
// injected (scripts/build.sh), and read back by the tests:
//   node scripts/pe-identity.mjs set <in.exe> <out.exe>   version resource + message table
//   node scripts/pe-identity.mjs read <exe>                the version strings as JSON
// Without this the exe says it is node.exe from "Node.js" (ProductName, OriginalFilename), which EDR
// "renamed binary" rules and reputation checks flag. Uses resedit (PE resource editor, pure JS):
// offline and deterministic (no timestamps are written; the same input gives the same bytes).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ResEdit from 'resedit';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const EN_US = 1033;
const UNICODE_CODEPAGE = 1200;
const RT_MESSAGETABLE = 11;

/** The strings the exe carries (StringFileInfo\040904B0). */
export function identityStrings() {
  const version = fileVersion(pkg.version);
  return {
    CompanyName: 'portqry-ts contributors',
    FileDescription: 'portqry-ts: PortQry, Port Reporter and Port Reporter Parser',
    FileVersion: version,
    InternalName: 'portqry-ts',
    LegalCopyright: `Copyright (c) portqry-ts contributors; ${pkg.license} License. Includes Node.js (MIT License)`,
    OriginalFilename: 'portqry-ts.exe',
    ProductName: 'portqry-ts',
    ProductVersion: pkg.version,
  };
}

/** 0.1.0 → 0.1.0.0; a pre-release or build suffix is dropped from the numeric version. */
function fileVersion(semver) {
  const nums = semver.split(/[-+]/)[0].split('.').map((n) => Number.parseInt(n, 10) || 0);
  while (nums.length < 4) nums.push(0);
  return nums.slice(0, 4).join('.');
}

/** The event ids of src/eventlog/types.ts (EventId), read from the source so they cannot drift. */
function eventIds() {
  const source = fs.readFileSync(path.join(ROOT, 'src', 'eventlog', 'types.ts'), 'utf8');
  const block = /export const EventId = \{([\s\S]*?)\}/.exec(source);
  if (!block) throw new Error('pe-identity: EventId not found in src/eventlog/types.ts');
  const ids = [...block[1].matchAll(/:\s*(\d+)/g)].map((m) => Number(m[1]));
  return [0, ...ids].sort((a, b) => a - b);
}

/**
 * A MESSAGETABLE resource (winnt.h MESSAGE_RESOURCE_DATA) with the text "%1" for every event id, so the
 * Event Viewer shows our message as is once the exe is registered as the source's EventMessageFile.
 */
function messageTable(ids) {
  const text = Buffer.from('%1\r\n\0', 'utf16le');
  const entryLength = (4 + text.length + 3) & ~3; // Length includes the 4-byte header, padded to 4 bytes
  const header = 4 + ids.length * 12;
  const buf = Buffer.alloc(header + ids.length * entryLength);
  buf.writeUInt32LE(ids.length, 0);
  ids.forEach((id, i) => {
    const entry = header + i * entryLength;
    buf.writeUInt32LE(id, 4 + i * 12); // LowId
    buf.writeUInt32LE(id, 8 + i * 12); // HighId
    buf.writeUInt32LE(entry, 12 + i * 12); // OffsetToEntries
    buf.writeUInt16LE(entryLength, entry);
    buf.writeUInt16LE(1, entry + 2); // MESSAGE_RESOURCE_UNICODE
    text.copy(buf, entry + 4);
  });
  return buf;
}

function setIdentity(input, output) {
  const exe = ResEdit.NtExecutable.from(fs.readFileSync(input), { ignoreCert: false });
  const res = ResEdit.NtExecutableResource.from(exe);
  const [vi] = ResEdit.Resource.VersionInfo.fromEntries(res.entries);
  if (!vi) throw new Error(`pe-identity: ${input} has no version resource`);
  const strings = identityStrings();
  // Replace every language's strings (node.exe has en-US only) with ours, under en-US / Unicode.
  for (const lang of vi.getAllLanguagesForStringValues()) vi.removeAllStringValues(lang, true);
  vi.lang = EN_US;
  // The numeric versions first (resedit also writes them as strings), then our strings over them.
  const [a, b, c, d] = strings.FileVersion.split('.').map(Number);
  vi.setFileVersion(a, b, c, d, EN_US);
  vi.setProductVersion(a, b, c, d, EN_US);
  vi.setStringValues({ lang: EN_US, codepage: UNICODE_CODEPAGE }, strings, true);
  vi.outputToResourceEntries(res.entries);

  const table = messageTable(eventIds());
  const others = res.entries.filter((e) => e.type !== RT_MESSAGETABLE);
  res.entries.length = 0;
  res.entries.push(...others, { type: RT_MESSAGETABLE, id: 1, lang: EN_US, codepage: 0, bin: table.buffer.slice(table.byteOffset, table.byteOffset + table.length) });
  res.outputResource(exe);
  fs.writeFileSync(output, Buffer.from(exe.generate()));
}

/** What the version resource says, plus the message table's ids (for the tests). */
export function readIdentity(file) {
  const exe = ResEdit.NtExecutable.from(fs.readFileSync(file), { ignoreCert: true });
  const res = ResEdit.NtExecutableResource.from(exe);
  const [vi] = ResEdit.Resource.VersionInfo.fromEntries(res.entries);
  const langs = vi ? vi.getAllLanguagesForStringValues() : [];
  const fixed = vi?.fixedInfo;
  const mt = res.entries.find((e) => e.type === RT_MESSAGETABLE);
  let messageIds = null;
  if (mt) {
    const b = Buffer.from(mt.bin);
    messageIds = [];
    for (let i = 0; i < b.readUInt32LE(0); i++) {
      const [low, high, off] = [b.readUInt32LE(4 + i * 12), b.readUInt32LE(8 + i * 12), b.readUInt32LE(12 + i * 12)];
      for (let id = low, o = off; id <= high; id++) {
        const len = b.readUInt16LE(o);
        messageIds.push({ id, text: b.toString(b.readUInt16LE(o + 2) === 1 ? 'utf16le' : 'latin1', o + 4, o + len).replace(/\0+$/, '') });
        o += len;
      }
    }
  }
  return {
    languages: langs,
    strings: langs.length ? vi.getStringValues(langs[0]) : {},
    fileVersion: fixed ? `${fixed.fileVersionMS >>> 16}.${fixed.fileVersionMS & 0xffff}.${fixed.fileVersionLS >>> 16}.${fixed.fileVersionLS & 0xffff}` : null,
    productVersion: fixed ? `${fixed.productVersionMS >>> 16}.${fixed.productVersionMS & 0xffff}.${fixed.productVersionLS >>> 16}.${fixed.productVersionLS & 0xffff}` : null,
    messageIds,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [cmd, a, b] = process.argv.slice(2);
  if (cmd === 'set' && a && b) setIdentity(a, b);
  else if (cmd === 'read' && a) process.stdout.write(`${JSON.stringify(readIdentity(a), null, 2)}\n`);
  else {
    console.error('usage: node scripts/pe-identity.mjs set <in.exe> <out.exe> | read <exe>');
    process.exit(64);
  }
}
