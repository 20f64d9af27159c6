/**
 * JSON as PowerShell can read it whatever the code page: every code unit above 0x7E is escaped as
 * \uXXXX (Windows PowerShell 5.1 decodes native output with the OEM code page, and WinRM remoting
 * re-encodes it again; ASCII is the one encoding that survives both). U+2028/2029 are covered too.
 */
export function toAsciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
