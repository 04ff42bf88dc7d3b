/**
 * Bulk allocation files: `user,amount` rows, where user is a member's email, user id or external id and amount
 * is a decimal number of credits. The header row is optional. Parsed in the browser so bad rows are shown
 * before anything is sent; the route re-validates every row.
 */
import { InvalidAmountError, parseCredits } from '@/lib/money/credits';

/** Rows per request to the bulk route; the route refuses more. */
export const BULK_CHUNK_SIZE = 50;
/** Rows per file, to keep one upload within a few minutes of work. */
export const MAX_BULK_ROWS = 5000;
const MAX_USER_LENGTH = 200;

/**
 * One allocation to send. `row` is the record's number in the file as a spreadsheet shows it (the header counts,
 * blank lines do not); with the upload id it names the allocation, so a resent chunk never allocates twice.
 */
export type BulkAllocationRow = { row: number; user: string; amount: string };
export type BulkAllocationRowError = { row: number; text: string; message: string };

export type ParsedAllocationCsv = {
  rows: BulkAllocationRow[];
  errors: BulkAllocationRowError[];
  /** Problems of the file as a whole (an unclosed quote, too many rows). */
  fileErrors: string[];
  hasHeader: boolean;
};

/** What the route answers for each row. */
export type BulkAllocationResult =
  | { row: number; ok: true; user_id: string; amount: string; balance: { available: string; reserved: string } }
  | { row: number; ok: false; error: { code: string; message: string } };

/**
 * Splits CSV text into records (RFC 4180): quoted fields may hold commas, quotes (doubled) and line breaks;
 * lines end in CRLF, LF or CR; a leading byte order mark is dropped. Unterminated quotes end at the end of the
 * text and are reported by the caller through `unterminated`.
 */
export function splitCsvRecords(text: string): { records: string[][]; unterminated: number | null } {
  const input = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const records: string[][] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let fieldWasQuoted = false;
  let line = 1;
  let quoteStart: number | null = null;

  const endField = () => {
    fields.push(fieldWasQuoted ? field : field.trim());
    field = '';
    fieldWasQuoted = false;
  };
  const endRecord = () => {
    endField();
    // A blank line is no record.
    if (!(fields.length === 1 && fields[0] === '')) records.push(fields);
    fields = [];
  };

  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (quoted) {
      if (c === '"') {
        if (input[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
          quoteStart = null;
        }
      } else {
        if (c === '\n' || (c === '\r' && input[i + 1] !== '\n')) line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field.trim() === '') {
      quoted = true;
      fieldWasQuoted = true;
      quoteStart = line;
      field = '';
    } else if (c === ',') {
      endField();
    } else if (c === '\r' || c === '\n') {
      if (c === '\r' && input[i + 1] === '\n') i++;
      endRecord();
      line++;
    } else {
      field += c;
    }
  }
  if (field !== '' || fields.length > 0 || fieldWasQuoted) endRecord();
  return { records, unterminated: quoted ? quoteStart : null };
}

const USER_HEADERS = new Set(['user', 'users', 'email', 'user_id', 'userid', 'user id', 'external_id', 'external id', 'member']);
const AMOUNT_HEADERS = new Set(['amount', 'credits', 'credit']);

function isHeader(fields: string[]): boolean {
  const [user = '', amount = ''] = fields.map((f) => f.trim().toLowerCase());
  return USER_HEADERS.has(user) && AMOUNT_HEADERS.has(amount);
}

function amountProblem(value: string): string | null {
  try {
    if (parseCredits(value) === 0n) return 'Amount must be greater than 0';
    return null;
  } catch (err) {
    if (err instanceof InvalidAmountError) {
      return value.startsWith('-')
        ? 'Amount must not be negative'
        : `Amount "${value}" is not a number of credits with at most 6 decimals, like 12.5`;
    }
    throw err;
  }
}

/** Parses a bulk allocation file into valid rows and bad rows, each with its record number. */
export function parseAllocationCsv(text: string): ParsedAllocationCsv {
  const { records, unterminated } = splitCsvRecords(text);
  const rows: BulkAllocationRow[] = [];
  const errors: BulkAllocationRowError[] = [];
  const fileErrors: string[] = [];
  const hasHeader = records.length > 0 && isHeader(records[0]);
  const data = hasHeader ? records.slice(1) : records;

  data.forEach((record, index) => {
    const row = index + (hasHeader ? 2 : 1);
    const fields = [...record];
    // Spreadsheets often export trailing empty columns.
    while (fields.length > 2 && fields[fields.length - 1] === '') fields.pop();
    const text = record.join(',');
    const fail = (message: string) => errors.push({ row, text, message });

    if (fields.length !== 2) return fail(`Expected 2 columns (user, amount), found ${fields.length}`);
    const [user, amount] = fields;
    if (user === '') return fail('User is missing');
    if (user.length > MAX_USER_LENGTH) return fail(`User is longer than ${MAX_USER_LENGTH} characters`);
    if (amount === '') return fail('Amount is missing');
    const problem = amountProblem(amount);
    if (problem) return fail(problem);
    rows.push({ row, user, amount });
  });

  if (unterminated !== null) fileErrors.push(`A quoted field opened on line ${unterminated} is never closed`);
  if (data.length > MAX_BULK_ROWS) fileErrors.push(`The file has more than ${MAX_BULK_ROWS} rows; split it into smaller files`);
  if (data.length === 0 && unterminated === null) fileErrors.push('The file has no rows');
  return { rows, errors, fileErrors, hasHeader };
}

/** The rows in request-sized chunks, in file order. */
export function chunkRows<T>(rows: readonly T[], size = BULK_CHUNK_SIZE): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < rows.length; i += size) chunks.push(rows.slice(i, i + size));
  return chunks;
}
