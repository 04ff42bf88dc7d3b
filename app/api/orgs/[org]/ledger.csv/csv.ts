/**
 * Writing CSV (RFC 4180): fields are quoted when they hold a comma, a quote, a line break or surrounding
 * spaces, quotes inside are doubled, and records end in CRLF. Text that people typed (memos) is also kept from
 * being read as a formula by spreadsheets.
 */

/** One field, quoted when it must be; null and undefined are empty fields. */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record, with its line ending. */
export function csvRecord(fields: readonly (string | number | null | undefined)[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

/**
 * Free text for a CSV cell: a leading `=`, `+`, `-`, `@`, tab or carriage return would make a spreadsheet run
 * the cell as a formula, so such text gets a leading apostrophe. Only for text, never for amounts, whose minus
 * sign is meaningful.
 */
export function csvText(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}
