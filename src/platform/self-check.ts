import schema from '../../schemas/self-check.schema.json';
import { defineRecordKind, type RecordSchema } from '../output/record-kind';
import { VERSION } from '../version';
import { queryEngineName, socketEngine } from '../query/socket-engine';
import { Worker } from 'node:worker_threads';
import { loadKoffi, seaModule } from './koffi';

export interface SelfCheck {
  Version: string;
  NodeVersion: string;
  Platform: string;
  Arch: string;
  Standalone: boolean;
  ExecutablePath: string;
  KoffiVersion: string | null;
  ProcessId: number;
  FfiProcessId: number | null;
  FfiError: string | null;
  QueryEngine: string | null;
  QueryEngineError: string | null;
  WorkerThread: boolean;
  WorkerThreadError: string | null;
}

export const SelfCheckKind = defineRecordKind(schema as RecordSchema);

/**
 * Describes the running executable and proves its FFI path: loads koffi the way the platform backends
 * do and asks the OS for our process id through it (getpid from libc, GetCurrentProcessId from
 * kernel32). Equal ids mean the native module inside the executable matches its platform, loads, and
 * can call a system library.
 */
export function selfCheck(): SelfCheck {
  const check: SelfCheck = {
    Version: VERSION,
    NodeVersion: process.version,
    Platform: process.platform,
    Arch: process.arch,
    Standalone: seaModule()?.isSea() ?? false,
    ExecutablePath: process.execPath,
    KoffiVersion: null,
    ProcessId: process.pid,
    FfiProcessId: null,
    FfiError: null,
    QueryEngine: null,
    QueryEngineError: null,
    WorkerThread: false,
    WorkerThreadError: null,
  };
  try {
    const koffi = loadKoffi();
    check.KoffiVersion = koffi.version;
    if (process.platform === 'win32') {
      check.FfiProcessId = koffi.load('kernel32.dll').func('uint32_t __stdcall GetCurrentProcessId(void)')() as number;
    } else if (process.platform === 'linux') {
      check.FfiProcessId = koffi.load('libc.so.6').func('int getpid(void)')() as number;
    } else {
      check.FfiError = `no FFI check for platform ${process.platform}`;
    }
    if (check.FfiProcessId !== null && check.FfiProcessId !== process.pid) {
      check.FfiError = `the OS reported process id ${check.FfiProcessId}, Node ${process.pid}`;
    }
  } catch (err) {
    check.FfiError = err instanceof Error ? err.message : String(err);
  }
  // The engine `query` uses here (PORTQRY_ENGINE or the platform's), started as query would start it.
  try {
    check.QueryEngine = queryEngineName();
    // The engine in use: a default libc engine that cannot start here falls back to node.
    check.QueryEngine = socketEngine().name;
  } catch (err) {
    check.QueryEngineError = err instanceof Error ? err.message : String(err);
  }
  return check;
}

/**
 * Starts one worker thread the way `parse` starts its workers (eval code, workerData, resourceLimits)
 * and waits for its answer: the thread's id and a value computed from workerData. Proves that a worker
 * can run in this executable (the Linux one starts from a V8 startup snapshot, where Node aborts the
 * process when node:worker_threads was loaded while the snapshot was built: scripts/bundle.mjs).
 */
export async function workerThreadCheck(timeoutMs = 10_000): Promise<Pick<SelfCheck, 'WorkerThread' | 'WorkerThreadError'>> {
  const code = "const { parentPort, threadId, workerData } = require('node:worker_threads'); parentPort.postMessage({ threadId, sum: workerData.a + workerData.b });";
  try {
    const answer = await new Promise<{ threadId: number; sum: number }>((resolve, reject) => {
      const worker = new Worker(code, { eval: true, workerData: { a: 40, b: 2 }, stdout: false, stderr: false, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
      const timer = setTimeout(() => reject(new Error(`no answer from the worker thread within ${timeoutMs} ms`)), timeoutMs);
      worker.once('message', (m: { threadId: number; sum: number }) => resolve(m));
      worker.once('error', reject);
      worker.once('exit', (exitCode) => reject(new Error(`the worker thread exited with code ${exitCode} before answering`)));
      // Settled either way: stop the worker and the timer.
      const done = () => {
        clearTimeout(timer);
        void worker.terminate();
      };
      worker.once('message', done);
      worker.once('error', done);
      worker.once('exit', done);
    });
    if (answer.sum !== 42 || !(answer.threadId > 0)) return { WorkerThread: false, WorkerThreadError: `the worker thread answered ${JSON.stringify(answer)}` };
    return { WorkerThread: true, WorkerThreadError: null };
  } catch (err) {
    return { WorkerThread: false, WorkerThreadError: err instanceof Error ? err.message : String(err) };
  }
}
