import * as path from 'node:path';

/**
 * The full path of a Windows program in %SystemRoot%\System32. Programs are always started by this
 * path, never by bare name: libuv's Windows search looks in the current directory before PATH, so a
 * planted `icacls.exe` beside the admin's working directory would run instead (CWE-427).
 */
export function system32Program(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.win32.join(env.SystemRoot ?? env.SYSTEMROOT ?? 'C:\\Windows', 'System32', name);
}
