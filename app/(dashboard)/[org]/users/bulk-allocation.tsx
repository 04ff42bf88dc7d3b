'use client';

import { useRouter } from 'next/navigation';
import { useId, useState } from 'react';
import { showCredits } from '@/components/ledger/credits';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { Table, Td, Th } from '@/components/ui/table';
import { formatCredits, parseCredits } from '@/lib/money/credits';
import {
  chunkRows,
  parseAllocationCsv,
  type BulkAllocationResult,
  type BulkAllocationRow,
  type ParsedAllocationCsv,
} from './allocation-csv';

type Upload = { fileName: string; parsed: ParsedAllocationCsv; uploadId: string; total: string };
type Phase = 'ready' | 'sending' | 'done' | 'stopped';

/** A v4 UUID from the platform's random source; crypto.randomUUID is missing on plain-http origins. */
function newUploadId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

class ChunkRefused extends Error {}

const MAX_ATTEMPTS = 3;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends one chunk, trying again after network failures and server errors. Retrying is safe: each row is keyed
 * by upload id and row number, so rows already applied answer their first result.
 */
async function sendChunk(orgSlug: string, uploadId: string, rows: BulkAllocationRow[]): Promise<BulkAllocationResult[]> {
  let lastError = 'The server could not be reached';
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    if (attempt > 1) await sleep(400 * 2 ** attempt);
    let res: Response;
    try {
      res = await fetch(`/api/orgs/${encodeURIComponent(orgSlug)}/allocations/bulk`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ upload_id: uploadId, rows }),
      });
    } catch {
      lastError = 'The server could not be reached';
      continue;
    }
    if (res.ok) return ((await res.json()) as { results: BulkAllocationResult[] }).results;
    const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
    const message = body?.error?.message ?? `The server answered ${res.status}`;
    if (res.status < 500 && res.status !== 429) throw new ChunkRefused(message);
    lastError = message;
  }
  throw new Error(lastError);
}

function totalOf(rows: BulkAllocationRow[]): string {
  return formatCredits(rows.reduce((sum, r) => sum + parseCredits(r.amount), 0n));
}

/** Bulk allocation from a CSV file: checked in the browser, then sent in chunks with progress and per-row results. */
export function BulkAllocation({ orgSlug }: { orgSlug: string }) {
  const router = useRouter();
  const inputId = useId();
  const [inputKey, setInputKey] = useState(0);
  const [upload, setUpload] = useState<Upload | null>(null);
  const [readError, setReadError] = useState<string | null>(null);
  const [phase, setPhase] = useState<Phase>('ready');
  const [results, setResults] = useState<Map<number, BulkAllocationResult>>(new Map());
  const [stopReason, setStopReason] = useState<string | null>(null);

  async function onFile(file: File | undefined) {
    setUpload(null);
    setResults(new Map());
    setPhase('ready');
    setStopReason(null);
    setReadError(null);
    if (!file) return;
    try {
      const parsed = parseAllocationCsv(await file.text());
      setUpload({ fileName: file.name, parsed, uploadId: newUploadId(), total: totalOf(parsed.rows) });
    } catch {
      setReadError('The file could not be read. Choose a CSV text file.');
    }
  }

  async function send() {
    if (!upload) return;
    setPhase('sending');
    setStopReason(null);
    // Rows answered already (before a stop) are not sent again; the rest go in file order.
    const pending = upload.parsed.rows.filter((r) => !results.has(r.row));
    const collected = new Map(results);
    try {
      for (const chunk of chunkRows(pending)) {
        const answers = await sendChunk(orgSlug, upload.uploadId, chunk);
        for (const answer of answers) collected.set(answer.row, answer);
        setResults(new Map(collected));
      }
      setPhase('done');
    } catch (err) {
      setStopReason((err as Error).message);
      setPhase('stopped');
    }
    router.refresh();
  }

  function reset() {
    setUpload(null);
    setResults(new Map());
    setPhase('ready');
    setStopReason(null);
    setReadError(null);
    setInputKey((k) => k + 1);
  }

  const rows = upload?.parsed.rows ?? [];
  const hasProblems = Boolean(upload && (upload.parsed.errors.length > 0 || upload.parsed.fileErrors.length > 0));
  const answered = results.size;
  const percent = rows.length === 0 ? 0 : Math.round((answered * 100) / rows.length);
  const succeeded = [...results.values()].filter((r) => r.ok).length;
  const started = phase !== 'ready' || answered > 0;

  return (
    <div className="space-y-4">
      <div className="space-y-1.5">
        <label htmlFor={inputId} className="block text-sm font-medium text-zinc-800">
          CSV file
        </label>
        <input
          key={inputKey}
          id={inputId}
          type="file"
          accept=".csv,text/csv,text/plain"
          disabled={phase === 'sending'}
          onChange={(e) => void onFile(e.currentTarget.files?.[0])}
          className="block w-full min-w-0 text-sm text-zinc-700 file:mr-3 file:rounded-md file:border file:border-zinc-300 file:bg-white file:px-3 file:py-1.5 file:text-sm file:font-medium file:text-zinc-800 hover:file:bg-zinc-50"
        />
        <p className="text-xs text-zinc-500">For example a line “ada@example.com,25”. Rows go one by one, in file order.</p>
      </div>

      {readError ? <Alert tone="error">{readError}</Alert> : null}

      {upload && hasProblems ? (
        <div className="space-y-3">
          <Alert tone="error" title={`${upload.fileName} has problems; nothing was sent`}>
            Fix the rows below and choose the file again.
            {upload.parsed.fileErrors.map((message) => (
              <span key={message} className="block">
                {message}
              </span>
            ))}
          </Alert>
          {upload.parsed.errors.length > 0 ? (
            <Table caption="Rows to fix">
              <thead>
                <tr>
                  <Th>Row</Th>
                  <Th>Content</Th>
                  <Th>Problem</Th>
                </tr>
              </thead>
              <tbody className="divide-y divide-zinc-100">
                {upload.parsed.errors.map((e) => (
                  <tr key={e.row}>
                    <Td className="tabular-nums">{e.row}</Td>
                    <Td className="max-w-64 break-words font-mono text-xs">{e.text || '—'}</Td>
                    <Td className="text-red-700">{e.message}</Td>
                  </tr>
                ))}
              </tbody>
            </Table>
          ) : null}
        </div>
      ) : null}

      {upload && !hasProblems ? (
        <div className="space-y-4">
          <p className="text-sm text-zinc-700">
            <span className="font-medium">{upload.fileName}</span>: {rows.length} {rows.length === 1 ? 'row' : 'rows'},{' '}
            {showCredits(upload.total)} credits in all{upload.parsed.hasHeader ? ' (header row skipped)' : ''}.
          </p>
          <div className="flex flex-wrap gap-2">
            {phase === 'ready' || phase === 'stopped' ? (
              <Button onClick={() => void send()}>{phase === 'stopped' ? 'Resume' : `Allocate to ${rows.length} ${rows.length === 1 ? 'row' : 'rows'}`}</Button>
            ) : null}
            {phase !== 'sending' ? (
              <Button variant="secondary" onClick={reset}>
                {phase === 'done' ? 'Upload another file' : 'Cancel'}
              </Button>
            ) : null}
          </div>
        </div>
      ) : null}

      {upload && started ? (
        <div className="space-y-3">
          <div className="space-y-1.5">
            <div className="flex items-baseline justify-between text-sm">
              <label htmlFor={`${inputId}-progress`} className="font-medium text-zinc-800">
                Progress
              </label>
              <span className="tabular-nums text-zinc-600">
                {percent}% · {answered} of {rows.length} rows
              </span>
            </div>
            <progress
              id={`${inputId}-progress`}
              max={100}
              value={percent}
              aria-valuemin={0}
              aria-valuemax={100}
              aria-valuenow={percent}
              className="h-2 w-full overflow-hidden rounded-full [&::-moz-progress-bar]:bg-accent-600 [&::-webkit-progress-bar]:bg-zinc-200 [&::-webkit-progress-value]:bg-accent-600"
            />
          </div>
          <div aria-live="polite">
            {phase === 'done' ? (
              <Alert tone={succeeded === rows.length ? 'success' : 'warning'}>
                Done: {succeeded} of {rows.length} rows allocated
                {succeeded < rows.length ? `; ${rows.length - succeeded} failed, see below` : ''}.
              </Alert>
            ) : null}
            {phase === 'stopped' ? (
              <Alert tone="error" title="Sending stopped">
                {stopReason} Rows already answered stay as they are; resuming sends only the others, and never
                allocates a row twice.
              </Alert>
            ) : null}
          </div>
          <Table caption="Bulk allocation results">
            <thead>
              <tr>
                <Th>Row</Th>
                <Th>User</Th>
                <Th className="text-right">Amount</Th>
                <Th>Result</Th>
              </tr>
            </thead>
            <tbody className="divide-y divide-zinc-100">
              {rows.map((r) => {
                const result = results.get(r.row);
                return (
                  <tr key={r.row}>
                    <Td className="tabular-nums">{r.row}</Td>
                    <Td className="max-w-64 break-words">{r.user}</Td>
                    <Td className="text-right tabular-nums">{showCredits(r.amount)}</Td>
                    <Td>
                      {!result ? (
                        <span className="text-zinc-500">{phase === 'sending' ? 'Waiting' : 'Not sent'}</span>
                      ) : result.ok ? (
                        <span className="text-emerald-700">Allocated · now {showCredits(result.balance.available)} available</span>
                      ) : (
                        <span className="text-red-700">{result.error.message}</span>
                      )}
                    </Td>
                  </tr>
                );
              })}
            </tbody>
          </Table>
        </div>
      ) : null}
    </div>
  );
}
