/**
 * Who may change the executable a boot-time service runs: a pure decoder of Windows security
 * descriptors (the self-relative SECURITY_DESCRIPTOR that GetNamedSecurityInfoW returns) and a pure
 * decision over the decoded owner and DACL. The koffi call that fetches the bytes is in windows-scm.ts;
 * the tests feed byte fixtures laid out as Windows lays them out.
 *
 * Layouts (winnt.h; https://learn.microsoft.com/windows/win32/secauthz/access-control-lists):
 * - SECURITY_DESCRIPTOR_RELATIVE: Revision u8, Sbz1 u8, Control u16, OffsetOwner u32, OffsetGroup u32,
 *   OffsetSacl u32, OffsetDacl u32 (offsets from the start; 0 = absent). Control SE_DACL_PRESENT 0x0004.
 * - ACL: AclRevision u8, Sbz1 u8, AclSize u16, AceCount u16, Sbz2 u16, then the ACEs.
 * - ACE: AceType u8, AceFlags u8, AceSize u16, Mask u32, SID (for the allowed/denied types used on files).
 * - SID: Revision u8, SubAuthorityCount u8, IdentifierAuthority 6 bytes big-endian, SubAuthority u32 LE each.
 *
 * The decision (https://learn.microsoft.com/windows/win32/secauthz/how-dacls-control-access-to-an-object):
 * - no DACL at all (SE_DACL_PRESENT clear) or a NULL DACL grants everyone full control: unsafe;
 * - an ACE that allows a write right to anyone but SYSTEM, Administrators, TrustedInstaller, or a
 *   domain's Domain Admins / Enterprise Admins makes the object unsafe, unless ACEs before it deny those
 *   rights to the same trustee or to Everyone (DACLs are evaluated in order; inherit-only ACEs do not
 *   apply to the object itself);
 * - the owner may always rewrite the DACL (implicit WRITE_DAC), so an owner outside that set is unsafe.
 */
export const SE_DACL_PRESENT = 0x0004;
export const ACCESS_ALLOWED_ACE_TYPE = 0x0;
export const ACCESS_DENIED_ACE_TYPE = 0x1;
export const ACCESS_ALLOWED_CALLBACK_ACE_TYPE = 0x9;
export const ACCESS_DENIED_CALLBACK_ACE_TYPE = 0xa;
export const INHERIT_ONLY_ACE = 0x08;

export const FileRight = {
  WRITE_DATA: 0x2, // files: write; folders: FILE_ADD_FILE (create files)
  APPEND_DATA: 0x4, // files: append; folders: FILE_ADD_SUBDIRECTORY
  WRITE_EA: 0x10,
  DELETE_CHILD: 0x40, // folders only (on a file, 0x40 is FILE_EXECUTE)
  WRITE_ATTRIBUTES: 0x100,
  DELETE: 0x10000,
  WRITE_DAC: 0x40000,
  WRITE_OWNER: 0x80000,
  GENERIC_ALL: 0x10000000,
  GENERIC_WRITE: 0x40000000,
  MAXIMUM_ALLOWED: 0x02000000,
} as const;

/** Rights that let a trustee replace or alter what the service runs. */
export function writeRights(kind: 'file' | 'directory'): number {
  const common =
    FileRight.WRITE_DATA | FileRight.APPEND_DATA | FileRight.DELETE | FileRight.WRITE_DAC | FileRight.WRITE_OWNER | FileRight.GENERIC_ALL | FileRight.GENERIC_WRITE | FileRight.MAXIMUM_ALLOWED;
  return kind === 'directory' ? common | FileRight.DELETE_CHILD : common;
}

export interface DecodedAce {
  type: number;
  flags: number;
  mask: number;
  sid: string;
}

export interface DecodedSecurityDescriptor {
  owner: string | null;
  /** null: no DACL (SE_DACL_PRESENT clear) or a NULL DACL: everyone has full control. */
  dacl: DecodedAce[] | null;
}

export function decodeSid(buf: Buffer, offset: number): string {
  if (offset + 8 > buf.length) throw new RangeError(`SID at ${offset} runs past the end (${buf.length} bytes)`);
  const revision = buf[offset]!;
  const count = buf[offset + 1]!;
  if (offset + 8 + 4 * count > buf.length) throw new RangeError(`SID at ${offset} with ${count} sub-authorities runs past the end`);
  const authority = buf.readUIntBE(offset + 2, 6);
  const parts = [`S-${revision}-${authority}`];
  for (let i = 0; i < count; i++) parts.push(String(buf.readUInt32LE(offset + 8 + 4 * i)));
  return parts.join('-');
}

export function decodeAcl(buf: Buffer, offset: number): DecodedAce[] {
  if (offset + 8 > buf.length) throw new RangeError('ACL header runs past the end');
  const aclSize = buf.readUInt16LE(offset + 2);
  const count = buf.readUInt16LE(offset + 4);
  const end = Math.min(buf.length, offset + aclSize);
  const aces: DecodedAce[] = [];
  let p = offset + 8;
  for (let i = 0; i < count; i++) {
    if (p + 4 > end) throw new RangeError(`ACE ${i} runs past the ACL`);
    const type = buf[p]!;
    const flags = buf[p + 1]!;
    const size = buf.readUInt16LE(p + 2);
    if (size < 8 || p + size > end) throw new RangeError(`ACE ${i} has a bad size ${size}`);
    const mask = buf.readUInt32LE(p + 4);
    // Allowed/denied (and their callback forms) carry the SID right after the mask; object ACEs (5-8) are for directory-service objects, never files.
    const simple = type === ACCESS_ALLOWED_ACE_TYPE || type === ACCESS_DENIED_ACE_TYPE || type === ACCESS_ALLOWED_CALLBACK_ACE_TYPE || type === ACCESS_DENIED_CALLBACK_ACE_TYPE;
    aces.push({ type, flags, mask, sid: simple ? decodeSid(buf, p + 8) : '' });
    p += size;
  }
  return aces;
}

/** A self-relative SECURITY_DESCRIPTOR, as GetNamedSecurityInfoW returns it. */
export function decodeSecurityDescriptor(buf: Buffer): DecodedSecurityDescriptor {
  if (buf.length < 20) throw new RangeError(`a security descriptor has at least 20 bytes, got ${buf.length}`);
  const control = buf.readUInt16LE(2);
  const ownerOffset = buf.readUInt32LE(4);
  const daclOffset = buf.readUInt32LE(16);
  const owner = ownerOffset ? decodeSid(buf, ownerOffset) : null;
  const dacl = control & SE_DACL_PRESENT && daclOffset ? decodeAcl(buf, daclOffset) : null;
  return { owner, dacl };
}

const TRUSTED_SIDS = new Set([
  'S-1-5-18', // SYSTEM
  'S-1-5-32-544', // BUILTIN\Administrators
  'S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464', // NT SERVICE\TrustedInstaller
  'S-1-3-0', // CREATOR OWNER: only a placeholder for inheritance, grants nothing on the object itself
]);

/** True for the trustees that administer the machine anyway. */
export function isAdministrativeSid(sid: string): boolean {
  if (TRUSTED_SIDS.has(sid)) return true;
  // Domain Admins (512) and Enterprise Admins (519) of any domain: S-1-5-21-a-b-c-RID
  return /^S-1-5-21-\d+-\d+-\d+-(512|519)$/.test(sid);
}

const WELL_KNOWN_NAMES: Record<string, string> = {
  'S-1-1-0': 'Everyone',
  'S-1-5-11': 'NT AUTHORITY\\Authenticated Users',
  'S-1-5-32-545': 'BUILTIN\\Users',
  'S-1-5-32-546': 'BUILTIN\\Guests',
  'S-1-5-32-547': 'BUILTIN\\Power Users',
  'S-1-5-4': 'NT AUTHORITY\\INTERACTIVE',
  'S-1-5-2': 'NT AUTHORITY\\NETWORK',
  'S-1-5-7': 'NT AUTHORITY\\ANONYMOUS LOGON',
  'S-1-5-13': 'NT AUTHORITY\\TERMINAL SERVER USER',
  'S-1-5-14': 'NT AUTHORITY\\REMOTE INTERACTIVE LOGON',
  'S-1-5-19': 'NT AUTHORITY\\LOCAL SERVICE',
  'S-1-5-20': 'NT AUTHORITY\\NETWORK SERVICE',
  'S-1-5-32-555': 'BUILTIN\\Remote Desktop Users',
  'S-1-15-2-1': 'ALL APPLICATION PACKAGES',
};

export function trusteeName(sid: string): string {
  const name = WELL_KNOWN_NAMES[sid];
  if (name) return name;
  if (/^S-1-5-21-\d+-\d+-\d+-513$/.test(sid)) return `Domain Users (${sid})`;
  return sid;
}

export interface AclVerdict {
  safe: boolean;
  /** Why not, naming the trustee and the rights: "BUILTIN\Users may create files (0x6)". */
  reason: string | null;
}

function describeRights(mask: number, kind: 'file' | 'directory'): string {
  const words: string[] = [];
  if (mask & (FileRight.GENERIC_ALL | FileRight.MAXIMUM_ALLOWED)) words.push('full control');
  if (mask & FileRight.GENERIC_WRITE) words.push('write');
  if (mask & FileRight.WRITE_DATA) words.push(kind === 'directory' ? 'create files' : 'write');
  if (mask & FileRight.APPEND_DATA) words.push(kind === 'directory' ? 'create folders' : 'append');
  if (kind === 'directory' && mask & FileRight.DELETE_CHILD) words.push('delete files');
  if (mask & FileRight.DELETE) words.push('delete');
  if (mask & FileRight.WRITE_DAC) words.push('change permissions');
  if (mask & FileRight.WRITE_OWNER) words.push('take ownership');
  return [...new Set(words)].join(', ');
}

/**
 * May anyone but the administrators replace or alter this file or folder? `trusted` says which SIDs
 * administer the machine (by default isAdministrativeSid; the installer adds its own user's SID).
 */
export function aclVerdict(sd: DecodedSecurityDescriptor, kind: 'file' | 'directory', trusted: (sid: string) => boolean = isAdministrativeSid): AclVerdict {
  if (sd.dacl === null) return { safe: false, reason: 'it has no access control list (everyone has full control)' };
  if (sd.owner !== null && !trusted(sd.owner)) {
    return { safe: false, reason: `its owner ${trusteeName(sd.owner)} may change its permissions` };
  }
  const bad = writeRights(kind);
  const denied = new Map<string, number>();
  for (const ace of sd.dacl) {
    if (ace.flags & INHERIT_ONLY_ACE || ace.sid === '') continue;
    if (ace.type === ACCESS_DENIED_ACE_TYPE || ace.type === ACCESS_DENIED_CALLBACK_ACE_TYPE) {
      denied.set(ace.sid, (denied.get(ace.sid) ?? 0) | ace.mask);
      continue;
    }
    if (trusted(ace.sid)) continue;
    // A deny for the trustee itself or for Everyone (every token has it) placed earlier wins.
    const effective = ace.mask & ~(denied.get(ace.sid) ?? 0) & ~(denied.get('S-1-1-0') ?? 0);
    if (effective & bad) {
      return { safe: false, reason: `${trusteeName(ace.sid)} may ${describeRights(effective & bad, kind)} (0x${(effective & bad).toString(16)})` };
    }
  }
  return { safe: true, reason: null };
}
