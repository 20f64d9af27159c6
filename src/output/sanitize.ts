/**
 * Untrusted text (banners, process names, log fields, DNS names) must not steer a terminal or a
 * spreadsheet. These are the only two places that make such text safe; every renderer calls them.
 */

// CSI/OSC/DCS/APC/PM/SOS sequences and two-byte ESC sequences, in 7-bit and 8-bit (C1) forms.
const ESCAPE_SEQUENCE =
  /(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[\s\S]*?(?:\x07|\x1b\\|\x9c|$)|\x1b[ -/]*[0-~]?/g;
// C0 and C1 controls, DEL, and the bidirectional overrides/isolates that can reorder what a reader sees.
const CONTROL_LINE = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_KEEP_NEWLINE = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

/** One line for a terminal: escape sequences and control characters removed, a tab shown as a space. */
export function sanitizeLine(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(/\t/g, ' ').replace(CONTROL_LINE, '');
}

/** Multi-line text (a banner) for a terminal: like sanitizeLine but keeps line breaks (CRLF folded to LF). */
export function sanitizeText(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(/\r\n?/g, '\n').replace(/\t/g, ' ').replace(CONTROL_KEEP_NEWLINE, '');
}

// OWASP "CSV injection": a cell that starts with one of these is run as a formula by Excel/LibreOffice.
const FORMULA_START = /^[=+\-@\t\r]/;

/** A string cell for CSV: a leading formula character is defused with an apostrophe, which Excel hides. */
export function neutralizeCsvCell(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}
