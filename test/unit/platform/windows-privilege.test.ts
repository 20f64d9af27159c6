import t from 'tap';
import { encodeEnablePrivilege, ERROR_NOT_ALL_ASSIGNED, privilegeOutcome } from '../../../src/platform/windows-decode';

t.test('TOKEN_PRIVILEGES for AdjustTokenPrivileges: one LUID_AND_ATTRIBUTES, SE_PRIVILEGE_ENABLED', async (t) => {
  // SeDebugPrivilege's LUID is { LowPart 20, HighPart 0 } on every Windows version.
  const luid = Buffer.from('1400000000000000', 'hex');
  t.equal(encodeEnablePrivilege(luid).toString('hex'), '01000000' + '1400000000000000' + '02000000');
  t.throws(() => encodeEnablePrivilege(Buffer.alloc(4)), RangeError);
});

t.test('AdjustTokenPrivileges succeeds without enabling a privilege the token does not hold (ERROR_NOT_ALL_ASSIGNED)', async (t) => {
  t.equal(privilegeOutcome(true, 0), 'enabled');
  t.equal(privilegeOutcome(true, ERROR_NOT_ALL_ASSIGNED), 'not held', 'a non-elevated admin or a standard user');
  t.equal(privilegeOutcome(false, 5), 'failed');
});
