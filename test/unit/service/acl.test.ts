import t from 'tap';
import { aclVerdict, decodeSecurityDescriptor, isAdministrativeSid } from '../../../src/service/acl';
import { checkPosixInstallLocation, checkWindowsInstallLocation, refusalMessage, windowsNetworkReason, type PosixStat } from '../../../src/service/install-safety';

// Byte fixtures in the self-relative SECURITY_DESCRIPTOR layout GetNamedSecurityInfoW returns
// (winnt.h: SECURITY_DESCRIPTOR_RELATIVE, ACL, ACCESS_ALLOWED_ACE/ACCESS_DENIED_ACE, SID).
// Two were captured from Wine's advapi32 (real bytes); the Windows ones are encoded here from the
// documented default SDDL of those folders, with the same layout (sdBytes below).

/** Wine 8, GetNamedSecurityInfoW(OWNER|DACL) of C:\Program Files (a 0755 folder): owner = the Wine user; SYSTEM and the user full control, Everyone read/execute. */
const WINE_PROGRAM_FILES =
  '0100048014000000000000000000000030000000010500000000000515000000000000000000000000000000e8030000020054000300000000031400ff011f0001010000000000051200000000032400ff011f00010500000000000515000000000000000000000000000000e803000000031400a9001200010100000000000100000000';
/** The same call on a folder that is chmod 0777 on the Unix side: Wine grants Everyone 0x1301ff (write). */
const WINE_WORLD_WRITABLE =
  '0100048014000000000000000000000030000000010500000000000515000000000000000000000000000000e8030000020054000300000000031400ff011f0001010000000000051200000000032400ff011f00010500000000000515000000000000000000000000000000e803000000031400ff011300010100000000000100000000';
const WINE_USER = 'S-1-5-21-0-0-0-1000';

function sidBytes(sid: string): Buffer {
  const [, rev, auth, ...subs] = sid.split('-');
  const b = Buffer.alloc(8 + 4 * subs.length);
  b[0] = Number(rev);
  b[1] = subs.length;
  b.writeUIntBE(Number(auth), 2, 6);
  subs.forEach((s, i) => b.writeUInt32LE(Number(s), 8 + 4 * i));
  return b;
}

type Ace = [type: number, flags: number, mask: number, sid: string];

/** A self-relative security descriptor: header, owner SID, then the DACL (null: SE_DACL_PRESENT with a NULL DACL). */
function sdBytes(owner: string, aces: Ace[] | null): Buffer {
  const ownerSid = sidBytes(owner);
  const aceBufs = (aces ?? []).map(([type, flags, mask, sid]) => {
    const s = sidBytes(sid);
    const a = Buffer.alloc(8 + s.length);
    a[0] = type;
    a[1] = flags;
    a.writeUInt16LE(a.length, 2);
    a.writeUInt32LE(mask >>> 0, 4);
    s.copy(a, 8);
    return a;
  });
  const aclBody = Buffer.concat(aceBufs);
  const acl = Buffer.alloc(8);
  acl[0] = 2;
  acl.writeUInt16LE(8 + aclBody.length, 2);
  acl.writeUInt16LE(aceBufs.length, 4);
  const header = Buffer.alloc(20);
  header[0] = 1;
  header.writeUInt16LE(0x8004, 2); // SE_SELF_RELATIVE | SE_DACL_PRESENT
  header.writeUInt32LE(20, 4);
  header.writeUInt32LE(aces === null ? 0 : 20 + ownerSid.length, 16);
  return Buffer.concat([header, ownerSid, ...(aces === null ? [] : [acl, aclBody])]);
}

const TI = 'S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464';
const SY = 'S-1-5-18';
const BA = 'S-1-5-32-544';
const BU = 'S-1-5-32-545';
const AU = 'S-1-5-11';
const WD = 'S-1-1-0';
const CO = 'S-1-3-0';
const AC = 'S-1-15-2-1';
const ALLOW = 0;
const DENY = 1;
const OI = 0x1;
const CI = 0x2;
const IO = 0x8;
const ID = 0x10;

/** C:\Program Files on Windows Server 2016-2022: D:P(A;;FA;;;TI)(A;CIIO;GA;;;TI)(A;;0x1301bf;;;SY)(A;OICIIO;GA;;;SY)(A;;0x1301bf;;;BA)(A;OICIIO;GA;;;BA)(A;;0x1200a9;;;BU)(A;OICIIO;GXGR;;;BU)(A;OICIIO;GA;;;CO)(A;;0x1200a9;;;AC)(A;OICIIO;GXGR;;;AC) */
const PROGRAM_FILES = sdBytes(TI, [
  [ALLOW, 0, 0x1f01ff, TI],
  [ALLOW, CI | IO, 0x10000000, TI],
  [ALLOW, 0, 0x1301bf, SY],
  [ALLOW, OI | CI | IO, 0x10000000, SY],
  [ALLOW, 0, 0x1301bf, BA],
  [ALLOW, OI | CI | IO, 0x10000000, BA],
  [ALLOW, 0, 0x1200a9, BU],
  [ALLOW, OI | CI | IO, 0xa0000000, BU],
  [ALLOW, OI | CI | IO, 0x10000000, CO],
  [ALLOW, 0, 0x1200a9, AC],
  [ALLOW, OI | CI | IO, 0xa0000000, AC],
]);
/** The exe copied into it: inherited (ID) SYSTEM/Administrators full, Users read/execute. */
const PROGRAM_FILES_EXE = sdBytes(BA, [
  [ALLOW, ID, 0x1f01ff, SY],
  [ALLOW, ID, 0x1f01ff, BA],
  [ALLOW, ID, 0x1200a9, BU],
  [ALLOW, ID, 0x1200a9, AC],
]);
/**
 * C:\Tools made by an administrator under C:\ (Server 2019 defaults of the drive root: (A;CI;LC;;;BU)
 * (A;CIIO;DC;;;BU) and (A;OICIIO;SDGXGWGR;;;AU)): Users may create folders and files, Authenticated
 * Users get Modify on what is created inside.
 */
const TOOLS = sdBytes(BA, [
  [ALLOW, OI | CI | ID, 0x1f01ff, BA],
  [ALLOW, OI | CI | ID, 0x1f01ff, SY],
  [ALLOW, OI | CI | ID, 0x1200a9, BU],
  [ALLOW, CI | ID, 0x4, BU],
  [ALLOW, CI | ID, 0x2, BU],
  [ALLOW, OI | CI | IO | ID, 0xe0010000, AU],
]);

t.test('decoder: owner and DACL from real Wine bytes and from Windows layouts', async (t) => {
  const wine = decodeSecurityDescriptor(Buffer.from(WINE_PROGRAM_FILES, 'hex'));
  t.equal(wine.owner, WINE_USER);
  t.same(wine.dacl, [
    { type: 0, flags: 3, mask: 0x1f01ff, sid: SY },
    { type: 0, flags: 3, mask: 0x1f01ff, sid: WINE_USER },
    { type: 0, flags: 3, mask: 0x1200a9, sid: WD },
  ]);
  const pf = decodeSecurityDescriptor(PROGRAM_FILES);
  t.equal(pf.owner, TI);
  t.equal(pf.dacl!.length, 11);
  t.same(pf.dacl![7], { type: 0, flags: OI | CI | IO, mask: 0xa0000000, sid: BU });
  t.same(decodeSecurityDescriptor(sdBytes(BA, null)), { owner: BA, dacl: null }, 'NULL DACL');
  t.throws(() => decodeSecurityDescriptor(Buffer.alloc(10)), RangeError);
  const cut = Buffer.from(WINE_PROGRAM_FILES, 'hex').subarray(0, 100);
  t.throws(() => decodeSecurityDescriptor(cut), RangeError, 'a truncated ACL is an error, not a safe verdict');
});

t.test('verdict: Program Files safe; C:\\Tools, Everyone-writable, NULL DACL, non-admin owner refused', async (t) => {
  const v = (b: Buffer, kind: 'file' | 'directory', trusted?: (s: string) => boolean) => aclVerdict(decodeSecurityDescriptor(b), kind, trusted);
  t.same(v(PROGRAM_FILES, 'directory'), { safe: true, reason: null });
  t.same(v(PROGRAM_FILES_EXE, 'file'), { safe: true, reason: null });
  t.same(v(TOOLS, 'directory'), { safe: false, reason: 'BUILTIN\\Users may create folders (0x4)' });
  t.same(v(sdBytes(BA, null), 'file'), { safe: false, reason: 'it has no access control list (everyone has full control)' });
  t.same(v(sdBytes('S-1-5-21-1-2-3-1105', [[ALLOW, 0, 0x1f01ff, SY]]), 'file'), { safe: false, reason: 'its owner S-1-5-21-1-2-3-1105 may change its permissions' });
  t.same(v(sdBytes(BA, [[ALLOW, 0, 0x40000, AU]]), 'file'), { safe: false, reason: 'NT AUTHORITY\\Authenticated Users may change permissions (0x40000)' });
  t.same(v(sdBytes(BA, [[ALLOW, 0, 0x80000, 'S-1-5-4']]), 'file'), { safe: false, reason: 'NT AUTHORITY\\INTERACTIVE may take ownership (0x80000)' });
  t.same(v(sdBytes(BA, [[ALLOW, 0, 0x40000000, WD]]), 'file'), { safe: false, reason: 'Everyone may write (0x40000000)' });
  t.same(v(sdBytes(BA, [[ALLOW, 0, 0x10000000, 'S-1-5-21-1-2-3-513']]), 'file'), { safe: false, reason: 'Domain Users (S-1-5-21-1-2-3-513) may full control (0x10000000)' });
  // 0x40 is FILE_EXECUTE on a file, FILE_DELETE_CHILD on a folder.
  t.equal(v(sdBytes(BA, [[ALLOW, 0, 0x1200e9, BU]]), 'file').safe, true);
  t.same(v(sdBytes(BA, [[ALLOW, 0, 0x1200e9, BU]]), 'directory'), { safe: false, reason: 'BUILTIN\\Users may delete files (0x40)' });
  // Inherit-only ACEs do not apply to the object itself.
  t.equal(v(sdBytes(BA, [[ALLOW, OI | CI | IO, 0x10000000, BU]]), 'directory').safe, true);
  // Deny ACEs placed first win (DACL order), for the same trustee or for Everyone.
  t.equal(v(sdBytes(BA, [[DENY, 0, 0x6, WD], [ALLOW, 0, 0x1200af, BU]]), 'directory').safe, true);
  t.same(v(sdBytes(BA, [[DENY, 0, 0x2, BU], [ALLOW, 0, 0x1200af, BU]]), 'directory'), { safe: false, reason: 'BUILTIN\\Users may create folders (0x4)' });
  t.same(v(sdBytes(BA, [[ALLOW, 0, 0x1200af, BU], [DENY, 0, 0x6, BU]]), 'directory').safe, false, 'a deny after the allow comes too late');
  // Wine: the Wine user owns everything; trusted as the installing administrator, its folder is safe unless the Unix side is world-writable.
  const wineUser = (s: string) => isAdministrativeSid(s) || s === WINE_USER;
  t.same(v(Buffer.from(WINE_PROGRAM_FILES, 'hex'), 'directory', wineUser), { safe: true, reason: null });
  t.same(v(Buffer.from(WINE_PROGRAM_FILES, 'hex'), 'directory'), { safe: false, reason: `its owner ${WINE_USER} may change its permissions` });
  t.same(v(Buffer.from(WINE_WORLD_WRITABLE, 'hex'), 'directory', wineUser), { safe: false, reason: 'Everyone may create files, create folders, delete files, delete (0x10046)' });
  t.ok(isAdministrativeSid('S-1-5-21-11-22-33-512'), 'Domain Admins');
  t.notOk(isAdministrativeSid('S-1-5-32-545'));
});

t.test('Windows location: folder and exe checked, network drives and UNC paths refused', async (t) => {
  const facts = (sds: Record<string, Buffer>, remote: string[] = []) => ({
    securityDescriptor: (p: string) => {
      const b = sds[p];
      if (!b) throw new Error(`unexpected path ${p}`);
      return b;
    },
    driveType: (root: string) => (remote.includes(root) ? 4 : 3),
    installingUser: 'S-1-5-21-9-9-9-500',
  });
  const safe = facts({ 'C:\\Program Files\\portqry-ts': PROGRAM_FILES, 'C:\\Program Files\\portqry-ts\\portqry-ts.exe': PROGRAM_FILES_EXE });
  t.equal(checkWindowsInstallLocation('C:\\Program Files\\portqry-ts\\portqry-ts.exe', safe), null);
  const tools = facts({ 'C:\\Tools': TOOLS, 'C:\\Tools\\portqry-ts.exe': PROGRAM_FILES_EXE });
  const unsafe = checkWindowsInstallLocation('C:\\Tools\\portqry-ts.exe', tools)!;
  t.same(unsafe, { path: 'C:\\Tools', reason: 'BUILTIN\\Users may create folders (0x4)' });
  t.equal(
    refusalMessage(unsafe, 'win32'),
    "refusing to install: C:\\Tools: BUILTIN\\Users may create folders (0x4), so a non-administrator could replace what the service runs as SYSTEM; copy portqry-ts.exe to a folder only administrators can write, or run 'portqry-ts record --install --copy-to-program-files'",
  );
  const exeWritable = facts({ 'C:\\pq': PROGRAM_FILES, 'C:\\pq\\portqry-ts.exe': sdBytes(BA, [[ALLOW, 0, 0x1301bf, AU]]) });
  t.same(checkWindowsInstallLocation('C:\\pq\\portqry-ts.exe', exeWritable), { path: 'C:\\pq\\portqry-ts.exe', reason: 'NT AUTHORITY\\Authenticated Users may write, append, delete (0x10006)' });
  const adminOwned = facts({ 'C:\\pq': sdBytes('S-1-5-21-9-9-9-500', [[ALLOW, 0, 0x1f01ff, 'S-1-5-21-9-9-9-500']]), 'C:\\pq\\portqry-ts.exe': PROGRAM_FILES_EXE });
  t.equal(checkWindowsInstallLocation('C:\\pq\\portqry-ts.exe', adminOwned), null, 'the installing administrator may own it');
  t.same(checkWindowsInstallLocation('\\\\fs01\\tools\\portqry-ts.exe', safe), { path: '\\\\fs01\\tools\\portqry-ts.exe', reason: 'it is on a network share (UNC path)' });
  t.equal(windowsNetworkReason('\\\\?\\UNC\\fs01\\tools\\portqry-ts.exe', () => 3), 'it is on a network share (UNC path)');
  t.equal(windowsNetworkReason('\\\\?\\C:\\pq\\portqry-ts.exe', () => 3), null);
  t.same(checkWindowsInstallLocation('n:\\tools\\portqry-ts.exe', facts({}, ['N:\\'])), { path: 'n:\\tools\\portqry-ts.exe', reason: 'it is on a network drive (N:)' });
});

t.test('Linux location: the executable and every folder up to / writable by root only', async (t) => {
  const tree = (over: Record<string, Partial<PosixStat>>) => (p: string): PosixStat => ({ uid: 0, gid: 0, mode: p === '/usr/local/bin/portqry-ts' ? 0o100755 : 0o40755, isDirectory: p !== '/usr/local/bin/portqry-ts', ...over[p] });
  const exe = '/usr/local/bin/portqry-ts';
  t.equal(checkPosixInstallLocation(exe, tree({})), null);
  t.same(checkPosixInstallLocation(exe, tree({ [exe]: { mode: 0o100777 } })), { path: exe, reason: 'the executable is writable by every user' });
  t.same(checkPosixInstallLocation(exe, tree({ '/usr/local/bin': { mode: 0o41777 } })), { path: '/usr/local/bin', reason: 'its folder is writable by every user' }, 'sticky does not save the own folder');
  t.same(checkPosixInstallLocation(exe, tree({ '/usr/local': { uid: 1000 } })), { path: '/usr/local', reason: 'a parent folder is owned by uid 1000, not root' });
  t.same(checkPosixInstallLocation(exe, tree({ '/usr': { mode: 0o40775, gid: 50 } })), { path: '/usr', reason: 'a parent folder is writable by group 50' });
  t.equal(checkPosixInstallLocation(exe, tree({ '/usr': { mode: 0o40775, gid: 0 } })), null, "root's group may write");
  t.equal(checkPosixInstallLocation('/tmp/pq/portqry-ts', tree({ '/tmp': { mode: 0o41777 }, '/tmp/pq/portqry-ts': { isDirectory: false, mode: 0o100755 } })), null, 'a sticky /tmp above a root-only folder');
  t.same(checkPosixInstallLocation('/tmp/portqry-ts', tree({ '/tmp': { mode: 0o41777 }, '/tmp/portqry-ts': { isDirectory: false, mode: 0o100755 } })), { path: '/tmp', reason: 'its folder is writable by every user' });
  t.match(refusalMessage({ path: '/tmp', reason: 'its folder is writable by every user' }, 'linux'), /^refusing to install: \/tmp: its folder is writable by every user, so a non-administrator could replace what the service runs as root; move it to a root-owned folder/);
});
