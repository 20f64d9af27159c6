import t from 'tap';
import { decodeSecurityDescriptor, TRUSTED_SIDS, windowsDirProblem, windowsLogDirAcl } from '../../../src/portreporter/windows-acl';

/** A SID in its binary form (revision 1, 6-byte big-endian authority, little-endian sub-authorities). */
function sid(text: string): Buffer {
  const [, , authority, ...subs] = text.split('-');
  const b = Buffer.alloc(8 + 4 * subs.length);
  b[0] = 1;
  b[1] = subs.length;
  b.writeUIntBE(Number(authority), 2, 6);
  subs.forEach((s, i) => b.writeUInt32LE(Number(s) >>> 0, 8 + 4 * i));
  return b;
}

/** A self-relative SECURITY_DESCRIPTOR as GetFileSecurityW returns it: header, owner SID, DACL. */
function descriptor(owner: string, aces: { type?: number; flags?: number; mask: number; sid: string }[] | null): Buffer {
  const ownerSid = sid(owner);
  const aceBufs = (aces ?? []).map((a) => {
    const s = sid(a.sid);
    const ace = Buffer.alloc(8 + s.length);
    ace[0] = a.type ?? 0;
    ace[1] = a.flags ?? 0;
    ace.writeUInt16LE(ace.length, 2);
    ace.writeUInt32LE(a.mask >>> 0, 4);
    s.copy(ace, 8);
    return ace;
  });
  const aclBody = Buffer.concat(aceBufs);
  const acl = Buffer.alloc(8 + aclBody.length);
  acl[0] = 2;
  acl.writeUInt16LE(acl.length, 2);
  acl.writeUInt16LE(aceBufs.length, 4);
  aclBody.copy(acl, 8);
  const header = Buffer.alloc(20);
  header[0] = 1;
  header.writeUInt16LE(0x8000 | (aces ? 0x0004 : 0), 2); // SE_SELF_RELATIVE | SE_DACL_PRESENT
  header.writeUInt32LE(20, 4);
  header.writeUInt32LE(aces ? 20 + ownerSid.length : 0, 16);
  return Buffer.concat([header, ownerSid, aces ? acl : Buffer.alloc(0)]);
}

const ADMINS = 'S-1-5-32-544';
const SYSTEM = 'S-1-5-18';
const USERS = 'S-1-5-32-545';
const AUTH_USERS = 'S-1-5-11';
const EVERYONE = 'S-1-1-0';
const CREATOR_OWNER = 'S-1-3-0';
const BOB = 'S-1-5-21-1004336348-1177238915-682003330-1001';
const FULL = 0x1f01ff;
const READ_EXECUTE = 0x1200a9;
const MODIFY = 0x1301bf;

t.test('decoder: owner, ACE types, flags, masks and SIDs of a real-shaped descriptor', async (t) => {
  const sd = decodeSecurityDescriptor(descriptor(ADMINS, [
    { mask: FULL, sid: SYSTEM, flags: 0x03 },
    { mask: READ_EXECUTE, sid: USERS },
    { type: 1, mask: 0x2, sid: EVERYONE },
  ]));
  t.equal(sd.owner, ADMINS);
  t.same(sd.aces, [
    { type: 0, flags: 3, mask: FULL, sid: SYSTEM },
    { type: 0, flags: 0, mask: READ_EXECUTE, sid: USERS },
    { type: 1, flags: 0, mask: 2, sid: EVERYONE },
  ]);
  t.same(decodeSecurityDescriptor(descriptor(SYSTEM, null)), { owner: SYSTEM, aces: null }, 'no DACL');
  t.throws(() => decodeSecurityDescriptor(Buffer.alloc(8)));
});

t.test('rule: what icacls gives a new log directory is safe; the default C:\\Windows\\System32\\LogFiles shape is safe', async (t) => {
  t.same(windowsLogDirAcl('C:\\PortLogs'), ['C:\\PortLogs', '/inheritance:r', '/grant:r', '*S-1-5-32-544:(OI)(CI)F', '/grant:r', '*S-1-5-18:(OI)(CI)F']);
  t.equal(windowsDirProblem(decodeSecurityDescriptor(descriptor(ADMINS, [{ mask: FULL, sid: ADMINS, flags: 3 }, { mask: FULL, sid: SYSTEM, flags: 3 }])), null), null);
  t.equal(
    windowsDirProblem(decodeSecurityDescriptor(descriptor(TRUSTED_SIDS[2]!, [{ mask: FULL, sid: TRUSTED_SIDS[2]! }, { mask: MODIFY, sid: SYSTEM }, { mask: MODIFY, sid: ADMINS }, { mask: READ_EXECUTE, sid: USERS, flags: 3 }])), null),
    null,
    'TrustedInstaller-owned, users read only',
  );
});

t.test('rule: refused when another account can write, own, or when there is no DACL', async (t) => {
  const check = (owner: string, aces: Parameters<typeof descriptor>[1], user: string | null = SYSTEM) => windowsDirProblem(decodeSecurityDescriptor(descriptor(owner, aces)), user);
  t.match(check(ADMINS, [{ mask: FULL, sid: SYSTEM }, { mask: MODIFY, sid: AUTH_USERS }]), /lets S-1-5-11 write into it/, 'Authenticated Users: Modify');
  t.match(check(ADMINS, [{ mask: 0x4, sid: USERS }]), /S-1-5-32-545/, 'Users: create folders only (FILE_ADD_SUBDIRECTORY)');
  t.match(check(ADMINS, [{ mask: 0x10000000, sid: EVERYONE }]), /S-1-1-0/, 'GENERIC_ALL');
  t.match(check(ADMINS, [{ mask: 0x40000, sid: BOB }]), /S-1-5-21-/, 'WRITE_DAC alone is enough to take over');
  t.match(check(BOB, [{ mask: FULL, sid: SYSTEM }]), /is owned by S-1-5-21-/, 'an owner can rewrite the DACL');
  t.match(check(ADMINS, null), /no access control list/);
  t.equal(check(ADMINS, [{ mask: FULL, sid: SYSTEM }, { mask: FULL, sid: CREATOR_OWNER, flags: 0x0b }, { mask: MODIFY, sid: USERS, flags: 0x0b }]), null, 'inherit-only entries concern children, not the directory');
  t.equal(check(ADMINS, [{ mask: FULL, sid: SYSTEM }, { type: 1, mask: FULL, sid: EVERYONE }]), null, 'a deny entry takes rights away');
  t.equal(check(ADMINS, [{ mask: READ_EXECUTE, sid: EVERYONE }]), null, 'read and list are fine');
  t.equal(check(BOB, [{ mask: FULL, sid: BOB }], BOB), null, "the recorder's own account may own and write it");
  t.match(check(BOB, [{ mask: FULL, sid: BOB }], SYSTEM), /owned by/, 'but not when the recorder runs as someone else');
});
