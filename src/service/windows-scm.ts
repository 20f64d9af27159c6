/**
 * The thin koffi layer over advapi32's service functions: install, configure, start, stop, delete,
 * the dispatcher that runs `record --service`, and the two facts install safety needs (a file's
 * security descriptor, a drive's type). Decisions live elsewhere: the status logic in scm-state.ts,
 * the ACL verdict in acl.ts, the byte layouts below in pure encoders (tested without koffi).
 * Declarations follow winsvc.h/aclapi.h; names of koffi types are prefixed (koffi registers them
 * process-wide, and src/platform/windows.ts declares its own).
 */
import { holdUntilCalled, loadKoffi, type Koffi } from '../platform/koffi';
import { sidToString, tokenUserSidOffset } from '../platform/windows-decode';
import type { FailureActions, ServiceOperations } from './service-definition';
import type { ScmBinding } from './run-service';
import type { ServiceStatus } from './scm-state';
import { driveStop, ERROR_SERVICE_NOT_ACTIVE, ERROR_SERVICE_REQUEST_TIMEOUT, type ObservedStatus, type StopClock } from './stop-wait';

const SC_MANAGER_CONNECT = 0x0001;
const SC_MANAGER_CREATE_SERVICE = 0x0002;
const SERVICE_ALL_ACCESS = 0xf01ff;
const SERVICE_QUERY_STATUS = 0x0004;
const SERVICE_START = 0x0010;
const SERVICE_STOP = 0x0020;
const DELETE = 0x10000;
const SERVICE_WIN32_OWN_PROCESS = 0x10;
const SERVICE_AUTO_START = 0x2;
const SERVICE_ERROR_NORMAL = 0x1;
const SERVICE_NO_CHANGE = 0xffffffff;
const SERVICE_CONTROL_STOP = 0x1;
const SERVICE_CONFIG_DESCRIPTION = 1;
const SERVICE_CONFIG_FAILURE_ACTIONS = 2;
const SERVICE_CONFIG_FAILURE_ACTIONS_FLAG = 4;
const SE_FILE_OBJECT = 1;
const OWNER_SECURITY_INFORMATION = 0x1;
const DACL_SECURITY_INFORMATION = 0x4;
const TOKEN_QUERY = 0x0008;
const TOKEN_USER_CLASS = 1;

export const ERROR_ACCESS_DENIED = 5;
export const ERROR_INVALID_LEVEL = 124;
export const ERROR_SERVICE_ALREADY_RUNNING = 1056;
export const ERROR_SERVICE_DOES_NOT_EXIST = 1060;
export const ERROR_FAILED_SERVICE_CONTROLLER_CONNECT = 1063;
export const ERROR_SERVICE_EXISTS = 1073;
export const ERROR_SERVICE_MARKED_FOR_DELETE = 1072;
export const DRIVE_REMOTE = 4;

/** SC_ACTION_TYPE */
export const SC_ACTION_RESTART = 1;

export { RECORDER_FAILURE_ACTIONS, type FailureActions } from './service-definition';

/** SC_ACTION[] { SC_ACTION_TYPE Type (int); DWORD Delay; }: 8 bytes each. */
export function encodeScActions(delays: readonly number[]): Buffer {
  const buf = Buffer.alloc(8 * delays.length);
  delays.forEach((d, i) => {
    buf.writeUInt32LE(SC_ACTION_RESTART, 8 * i);
    buf.writeUInt32LE(d, 8 * i + 4);
  });
  return buf;
}

/**
 * SERVICE_FAILURE_ACTIONSW on x64: dwResetPeriod u32 @0, (pad), lpRebootMsg @8, lpCommand @16,
 * cActions u32 @24, (pad), lpsaActions @32: 40 bytes. Reboot message and command stay NULL (unchanged).
 */
export function encodeFailureActions(resetPeriodSeconds: number, count: number, actionsAddress: bigint): Buffer {
  const buf = Buffer.alloc(40);
  buf.writeUInt32LE(resetPeriodSeconds, 0);
  buf.writeBigUInt64LE(0n, 8);
  buf.writeBigUInt64LE(0n, 16);
  buf.writeUInt32LE(count, 24);
  buf.writeBigUInt64LE(actionsAddress, 32);
  return buf;
}

/** SERVICE_STATUS: seven DWORDs in this order. */
export function encodeServiceStatus(s: ServiceStatus): Buffer {
  const buf = Buffer.alloc(28);
  [s.serviceType, s.currentState, s.controlsAccepted, s.win32ExitCode, s.serviceSpecificExitCode, s.checkPoint, s.waitHint].forEach((v, i) => buf.writeUInt32LE(v >>> 0, 4 * i));
  return buf;
}

export class Win32CallError extends Error {
  constructor(
    readonly call: string,
    readonly code: number,
  ) {
    super(`${call} failed: ${win32Message(code)}`);
  }
}

/** The few Win32 errors an installing admin meets, in words (FormatMessage would need the system's language). */
export function win32Message(code: number): string {
  const known: Record<number, string> = {
    [ERROR_ACCESS_DENIED]: 'access denied (run it from an elevated prompt: Run as administrator)',
    [ERROR_SERVICE_ALREADY_RUNNING]: 'the service is already running',
    [ERROR_SERVICE_DOES_NOT_EXIST]: 'the service is not installed',
    [ERROR_SERVICE_NOT_ACTIVE]: 'the service is not running',
    [ERROR_FAILED_SERVICE_CONTROLLER_CONNECT]: 'not started by the service control manager',
    [ERROR_SERVICE_MARKED_FOR_DELETE]: 'the service is marked for deletion (close services.msc and try again)',
    [ERROR_SERVICE_EXISTS]: 'the service already exists',
    [ERROR_SERVICE_REQUEST_TIMEOUT]: 'the service did not respond to the start or control request in a timely fashion',
    1058: 'the service is disabled',
  };
  return `${known[code] ?? 'Windows error'} (${code})`;
}

type Fn = (...args: unknown[]) => unknown;
type AsyncFn = Fn & { async: (...args: unknown[]) => void };

interface ScmApi {
  koffi: Koffi;
  GetLastError: () => number;
  GetCurrentProcess: () => unknown;
  CloseHandle: Fn;
  OpenSCManagerW: Fn;
  CreateServiceW: Fn;
  OpenServiceW: Fn;
  ChangeServiceConfigW: Fn;
  ChangeServiceConfig2W: Fn;
  StartServiceW: Fn;
  ControlService: Fn;
  QueryServiceStatus: Fn;
  DeleteService: Fn;
  CloseServiceHandle: Fn;
  StartServiceCtrlDispatcherW: AsyncFn;
  RegisterServiceCtrlHandlerExW: Fn;
  SetServiceStatus: AsyncFn;
  GetNamedSecurityInfoW: Fn;
  GetSecurityDescriptorLength: Fn;
  LocalFree: Fn;
  GetDriveTypeW: Fn;
  OpenProcessToken: Fn;
  GetTokenInformation: Fn;
}

let api: ScmApi | undefined;

function scmApi(): ScmApi {
  if (api) return api;
  const koffi = loadKoffi();
  const advapi32 = koffi.load('advapi32.dll');
  const kernel32 = koffi.load('kernel32.dll');
  koffi.proto('void __stdcall PQSVC_ServiceMain(uint32_t argc, void *argv)');
  koffi.proto('uint32_t __stdcall PQSVC_HandlerEx(uint32_t control, uint32_t eventType, void *eventData, void *context)');
  // SERVICE_TABLE_ENTRYW[2]: our entry and the terminating NULL pair.
  koffi.struct('PQSVC_TABLE', { name0: 'const char16_t *', proc0: 'PQSVC_ServiceMain *', name1: 'void *', proc1: 'void *' });
  const f = (lib: typeof advapi32, decl: string) => lib.func(decl) as Fn;
  api = {
    koffi,
    GetLastError: kernel32.func('uint32_t __stdcall GetLastError()') as () => number,
    GetCurrentProcess: kernel32.func('void * __stdcall GetCurrentProcess()') as () => unknown,
    CloseHandle: f(kernel32, 'int __stdcall CloseHandle(void *h)'),
    OpenSCManagerW: f(advapi32, 'void * __stdcall OpenSCManagerW(const char16_t *machine, const char16_t *database, uint32_t access)'),
    CreateServiceW: f(
      advapi32,
      'void * __stdcall CreateServiceW(void *scm, const char16_t *name, const char16_t *displayName, uint32_t access, uint32_t serviceType, uint32_t startType, uint32_t errorControl, const char16_t *binaryPath, const char16_t *loadOrderGroup, void *tagId, const char16_t *dependencies, const char16_t *account, const char16_t *password)',
    ),
    OpenServiceW: f(advapi32, 'void * __stdcall OpenServiceW(void *scm, const char16_t *name, uint32_t access)'),
    ChangeServiceConfigW: f(
      advapi32,
      'int __stdcall ChangeServiceConfigW(void *service, uint32_t serviceType, uint32_t startType, uint32_t errorControl, const char16_t *binaryPath, const char16_t *loadOrderGroup, void *tagId, const char16_t *dependencies, const char16_t *account, const char16_t *password, const char16_t *displayName)',
    ),
    ChangeServiceConfig2W: f(advapi32, 'int __stdcall ChangeServiceConfig2W(void *service, uint32_t infoLevel, void *info)'),
    StartServiceW: f(advapi32, 'int __stdcall StartServiceW(void *service, uint32_t argc, void *argv)'),
    ControlService: f(advapi32, 'int __stdcall ControlService(void *service, uint32_t control, _Out_ void *status)'),
    QueryServiceStatus: f(advapi32, 'int __stdcall QueryServiceStatus(void *service, _Out_ void *status)'),
    DeleteService: f(advapi32, 'int __stdcall DeleteService(void *service)'),
    CloseServiceHandle: f(advapi32, 'int __stdcall CloseServiceHandle(void *h)'),
    StartServiceCtrlDispatcherW: advapi32.func('int __stdcall StartServiceCtrlDispatcherW(PQSVC_TABLE *table)') as AsyncFn,
    RegisterServiceCtrlHandlerExW: f(advapi32, 'void * __stdcall RegisterServiceCtrlHandlerExW(const char16_t *name, PQSVC_HandlerEx *handler, void *context)'),
    SetServiceStatus: advapi32.func('int __stdcall SetServiceStatus(void *handle, void *status)') as AsyncFn,
    GetNamedSecurityInfoW: f(
      advapi32,
      'uint32_t __stdcall GetNamedSecurityInfoW(const char16_t *name, int objectType, uint32_t info, _Out_ void **owner, _Out_ void **group, _Out_ void **dacl, _Out_ void **sacl, _Out_ void **sd)',
    ),
    GetSecurityDescriptorLength: f(advapi32, 'uint32_t __stdcall GetSecurityDescriptorLength(void *sd)'),
    LocalFree: f(kernel32, 'void * __stdcall LocalFree(void *mem)'),
    GetDriveTypeW: f(kernel32, 'uint32_t __stdcall GetDriveTypeW(const char16_t *root)'),
    OpenProcessToken: f(advapi32, 'int __stdcall OpenProcessToken(void *process, uint32_t access, _Out_ void **token)'),
    GetTokenInformation: f(advapi32, 'int __stdcall GetTokenInformation(void *token, int cls, _Out_ void *info, uint32_t length, _Out_ uint32_t *returnLength)'),
  };
  return api;
}

function openManager(a: Pick<ScmApi, 'OpenSCManagerW' | 'GetLastError'>, access: number): unknown {
  const scm = a.OpenSCManagerW(null, null, access);
  if (!scm) throw new Win32CallError('OpenSCManagerW', a.GetLastError());
  return scm;
}

export interface ServiceSpec {
  name: string;
  displayName: string;
  description: string;
  /** The full command line (program quoted). */
  binaryPath: string;
  failureActions: FailureActions;
}

/**
 * CreateServiceW (own process, automatic start, LocalSystem); an existing service of that name is
 * reconfigured instead (ChangeServiceConfigW), so running --install again with new options updates it.
 */
export function createOrUpdateService(spec: ServiceSpec): 'created' | 'updated an existing service' {
  const a = scmApi();
  const scm = openManager(a, SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE);
  try {
    const svc = a.CreateServiceW(scm, spec.name, spec.displayName, SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START, SERVICE_ERROR_NORMAL, spec.binaryPath, null, null, null, null, null);
    if (svc) {
      a.CloseServiceHandle(svc);
      return 'created';
    }
    const err = a.GetLastError();
    if (err !== ERROR_SERVICE_EXISTS) throw new Win32CallError('CreateServiceW', err);
  } finally {
    a.CloseServiceHandle(scm);
  }
  withService(spec.name, SERVICE_ALL_ACCESS, (b, svc) => {
    if (!b.ChangeServiceConfigW(svc, SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START, SERVICE_ERROR_NORMAL, spec.binaryPath, null, null, null, null, null, spec.displayName)) {
      throw new Win32CallError('ChangeServiceConfigW', b.GetLastError());
    }
  });
  return 'updated an existing service';
}

/**
 * ChangeServiceConfig2W: the description, the failure actions, and the flag that applies them to a stop
 * with an error code too. Windows has every level since Vista; Wine 8's services.exe answers the flag
 * with ERROR_INVALID_LEVEL, which is reported as the step's detail instead of failing the install.
 */
export function configureService(spec: ServiceSpec): string | null {
  return withService(spec.name, SERVICE_ALL_ACCESS, (a, svc) => {
    const description = Buffer.from(`${spec.description}\0`, 'utf16le');
    const descInfo = Buffer.alloc(8);
    descInfo.writeBigUInt64LE(a.koffi.address(description), 0);
    if (!a.ChangeServiceConfig2W(svc, SERVICE_CONFIG_DESCRIPTION, descInfo)) throw new Win32CallError('ChangeServiceConfig2W(SERVICE_CONFIG_DESCRIPTION)', a.GetLastError());
    // SC_ACTION_RESTART needs SERVICE_START on the handle (ALL_ACCESS has it).
    const actions = encodeScActions(spec.failureActions.restartDelaysMs);
    const info = encodeFailureActions(spec.failureActions.resetPeriodSeconds, spec.failureActions.restartDelaysMs.length, a.koffi.address(actions));
    if (!a.ChangeServiceConfig2W(svc, SERVICE_CONFIG_FAILURE_ACTIONS, info)) throw new Win32CallError('ChangeServiceConfig2W(SERVICE_CONFIG_FAILURE_ACTIONS)', a.GetLastError());
    const flag = Buffer.alloc(4);
    flag.writeUInt32LE(1, 0); // fFailureActionsOnNonCrashFailures
    if (!a.ChangeServiceConfig2W(svc, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, flag)) {
      const err = a.GetLastError();
      if (err === ERROR_INVALID_LEVEL) return `this service control manager does not support SERVICE_CONFIG_FAILURE_ACTIONS_FLAG (${err}): failure actions apply to crashes only`;
      throw new Win32CallError('ChangeServiceConfig2W(SERVICE_CONFIG_FAILURE_ACTIONS_FLAG)', err);
    }
    return null;
  });
}

function withService<T>(name: string, access: number, fn: (a: ScmApi, svc: unknown) => T): T {
  const a = scmApi();
  const scm = openManager(a, SC_MANAGER_CONNECT);
  try {
    const svc = a.OpenServiceW(scm, name, access);
    if (!svc) throw new Win32CallError('OpenServiceW', a.GetLastError());
    try {
      return fn(a, svc);
    } finally {
      a.CloseServiceHandle(svc);
    }
  } finally {
    a.CloseServiceHandle(scm);
  }
}

/** StartServiceW; already running is fine. */
export function startService(name: string): 'started' | 'already running' {
  return withService(name, SERVICE_START, (a, svc) => {
    if (a.StartServiceW(svc, 0, null)) return 'started';
    const err = a.GetLastError();
    if (err === ERROR_SERVICE_ALREADY_RUNNING) return 'already running';
    throw new Win32CallError('StartServiceW', err);
  });
}

/** SERVICE_STATUS as QueryServiceStatus fills it: dwCurrentState @4, dwCheckPoint @20, dwWaitHint @24. */
export function decodeServiceStatus(buf: Buffer): ObservedStatus {
  return { state: buf.readUInt32LE(4), checkPoint: buf.readUInt32LE(20), waitHint: buf.readUInt32LE(24) };
}

function queryStatus(a: StopApi, svc: unknown): ObservedStatus {
  const status = Buffer.alloc(28);
  if (!a.QueryServiceStatus(svc, status)) throw new Win32CallError('QueryServiceStatus', a.GetLastError());
  return decodeServiceStatus(status);
}

/** The calls stopService makes (a fake with Windows' answers in test/unit/service/stop-wait.test.ts). */
export type StopApi = Pick<ScmApi, 'OpenSCManagerW' | 'OpenServiceW' | 'QueryServiceStatus' | 'ControlService' | 'CloseServiceHandle' | 'GetLastError'>;

/**
 * ControlService(STOP) once the service can take it, then waits until STOPPED: the decisions (a start
 * still pending, a slow stop that shows progress, a hung one) are stop-wait.ts's.
 * Returns 'not installed', 'not running' or 'stopped'.
 */
export async function stopService(name: string, a: StopApi = scmApi(), clock?: StopClock): Promise<'not installed' | 'not running' | 'stopped'> {
  const scm = openManager(a, SC_MANAGER_CONNECT);
  try {
    const svc = a.OpenServiceW(scm, name, SERVICE_STOP | SERVICE_QUERY_STATUS);
    if (!svc) {
      const err = a.GetLastError();
      if (err === ERROR_SERVICE_DOES_NOT_EXIST) return 'not installed';
      throw new Win32CallError('OpenServiceW', err);
    }
    try {
      const port = {
        query: () => queryStatus(a, svc),
        control: () => (a.ControlService(svc, SERVICE_CONTROL_STOP, Buffer.alloc(28)) ? 0 : a.GetLastError()),
      };
      return await driveStop(port, (code) => new Win32CallError('ControlService(SERVICE_CONTROL_STOP)', code), clock);
    } finally {
      a.CloseServiceHandle(svc);
    }
  } finally {
    a.CloseServiceHandle(scm);
  }
}

/** DeleteService (the SCM removes it once every handle is closed). */
export function deleteService(name: string): 'deleted' | 'not installed' {
  const a = scmApi();
  const scm = openManager(a, SC_MANAGER_CONNECT);
  try {
    const svc = a.OpenServiceW(scm, name, DELETE);
    if (!svc) {
      const err = a.GetLastError();
      if (err === ERROR_SERVICE_DOES_NOT_EXIST) return 'not installed';
      throw new Win32CallError('OpenServiceW', err);
    }
    try {
      if (!a.DeleteService(svc)) {
        const err = a.GetLastError();
        if (err === ERROR_SERVICE_MARKED_FOR_DELETE) return 'deleted';
        throw new Win32CallError('DeleteService', err);
      }
      return 'deleted';
    } finally {
      a.CloseServiceHandle(svc);
    }
  } finally {
    a.CloseServiceHandle(scm);
  }
}

/**
 * The SCM side of `record --service`. StartServiceCtrlDispatcherW blocks its thread until the service
 * stops, so it runs as a koffi async call (a worker thread). ServiceMain is then called on a thread
 * the SCM creates, HandlerEx on the dispatcher's thread; koffi queues both calls to the JS thread and
 * blocks the calling thread until the JS function returns (koffi docs, "Asynchronous callbacks"), so
 * they must return quickly: they only report a status and abort a signal.
 */
export function koffiScmBinding(): ScmBinding {
  let statusHandle: unknown = null;
  let statusQueue: Promise<void> = Promise.resolve();
  return {
    dispatch(name, main, handler) {
      const a = scmApi();
      let mainCalled = false;
      const handlerPtr = a.koffi.register((control: number) => {
        try {
          return handler(control);
        } catch {
          return 0;
        }
      }, 'PQSVC_HandlerEx *');
      const mainPtr = a.koffi.register(() => {
        mainCalled = true;
        statusHandle = a.RegisterServiceCtrlHandlerExW(name, handlerPtr, null);
        if (!statusHandle) return; // the SCM then reports the start as failed (1053)
        main();
      }, 'PQSVC_ServiceMain *');
      return new Promise<boolean>((resolve) => {
        // koffi-hold: no Buffer: koffi copies the table (an object) and its strings into the call's own memory, kept until it returns.
        a.StartServiceCtrlDispatcherW.async({ name0: name, proc0: mainPtr, name1: null, proc1: null }, (err: unknown, ok: unknown) => {
          a.koffi.unregister(mainPtr);
          a.koffi.unregister(handlerPtr);
          // The call's own error code (GetLastError) belongs to the worker thread and is not readable
          // here; a dispatcher that returns without ever calling ServiceMain failed to connect
          // (ERROR_FAILED_SERVICE_CONTROLLER_CONNECT: a console start), the only failure a correct table can meet.
          resolve(!err && Boolean(ok) ? true : mainCalled);
        });
      });
    },
    setStatus(status) {
      if (!statusHandle) return false;
      // SetServiceStatus is an RPC to the SCM. Made on the JS thread it could wait for the SCM while the
      // SCM waits for our HandlerEx, which waits for the JS thread: a deadlock (seen under Wine's
      // services.exe, whose control and status paths share a lock). So it runs on a worker thread too,
      // one call at a time in order, and the JS thread stays free to answer controls.
      const handle = statusHandle;
      const bytes = encodeServiceStatus(status);
      statusQueue = statusQueue.then(
        () =>
          new Promise<void>((resolve) => {
            // The SERVICE_STATUS bytes must outlive the call: koffi holds no argument Buffer (holdUntilCalled).
            scmApi().SetServiceStatus.async(handle, bytes, holdUntilCalled([bytes], () => resolve()));
          }),
      );
      return true;
    },
  };
}

/** The self-relative security descriptor (owner + DACL) of a file or folder: GetNamedSecurityInfoW. */
export function readSecurityDescriptor(path: string): Buffer {
  const a = scmApi();
  const owner = [null];
  const group = [null];
  const dacl = [null];
  const sacl = [null];
  const sd: [unknown] = [null];
  const rc = a.GetNamedSecurityInfoW(path, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, owner, group, dacl, sacl, sd) as number;
  if (rc !== 0) throw new Win32CallError('GetNamedSecurityInfoW', rc);
  try {
    const length = a.GetSecurityDescriptorLength(sd[0]) as number;
    return Buffer.from(a.koffi.decode(sd[0], 'uint8_t', length) as number[]);
  } finally {
    a.LocalFree(sd[0]);
  }
}

/** GetDriveTypeW of a root such as `C:\`: DRIVE_REMOTE (4) for a network drive. */
export function driveType(root: string): number {
  return scmApi().GetDriveTypeW(root) as number;
}

/** The SID of this process's user (the elevated admin running --install). */
export function currentUserSid(): string | null {
  const a = scmApi();
  const token: [unknown] = [null];
  if (!a.OpenProcessToken(a.GetCurrentProcess(), TOKEN_QUERY, token) || !token[0]) return null;
  try {
    const buf = Buffer.alloc(256);
    const needed = [0];
    if (!a.GetTokenInformation(token[0], TOKEN_USER_CLASS, buf, buf.length, needed)) return null;
    return sidToString(buf, tokenUserSidOffset(buf, a.koffi.address(buf)));
  } finally {
    a.CloseHandle(token[0]);
  }
}

/** The service steps of `record --install/--uninstall`, through the functions above. */
export function windowsServiceOperations(): ServiceOperations {
  return {
    create: (service) => createOrUpdateService(service),
    configure: (service) => configureService(service),
    start: (name) => startService(name),
    stop: (name) => stopService(name),
    delete: (name) => deleteService(name),
  };
}
