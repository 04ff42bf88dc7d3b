/**
 * GET /api/orgs/{org}/ledger.csv: the journal with the Ledger page's filters (user, kind, from, to) as a CSV
 * download, one record per entry. Pages are read from the database as the client takes the stream, so an
 * export of any length holds one page in memory. The first page is read before answering, so bad filters are
 * a JSON error rather than a broken file.
 */
import { parseLedgerFilter } from '@/app/(dashboard)/[org]/ledger/ledger-filter';
import { AppError } from '@/lib/http/errors';
import { logger } from '@/lib/http/logger';
import { withSession } from '@/lib/http/with-session';
import { getLedgerContext } from '@/lib/ledger/context';
import { listTransactions, type TransactionDto } from '@/lib/ledger/queries';
import { ledgerCsvHeader, ledgerCsvRecords } from './ledger-csv';

const PAGE_SIZE = 200;

export const GET = withSession<{ org: string }>('pool:view', async (req, ctx) => {
  const { filter, errors } = parseLedgerFilter(new URL(req.url).searchParams);
  const [field, message] = Object.entries(errors).find(([key]) => key !== 'cursor') ?? [];
  if (field && message) throw new AppError('validation_failed', message, { field });

  const ledger = getLedgerContext();
  // The export always starts at the newest transaction; paging on from there walks back through the journal,
  // and transactions recorded meanwhile are newer than every cursor, so none appears twice.
  const query = { ...filter, cursor: undefined, limit: PAGE_SIZE };
  let page = await listTransactions(ledger, ctx.org.id, query);
  let first = true;
  const encoder = new TextEncoder();
  const encode = (rows: TransactionDto[]) => encoder.encode(rows.map(ledgerCsvRecords).join(''));

  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (first) {
          first = false;
          controller.enqueue(encoder.encode(ledgerCsvHeader));
          controller.enqueue(encode(page.data));
        } else if (page.next_cursor) {
          page = await listTransactions(ledger, ctx.org.id, { ...query, cursor: page.next_cursor });
          controller.enqueue(encode(page.data));
        }
        if (!page.next_cursor) controller.close();
      } catch (err) {
        logger.error({ err, reqId: ctx.requestId, orgId: ctx.org.id }, 'ledger export failed');
        controller.error(err);
      }
    },
  });

  const day = new Date().toISOString().slice(0, 10);
  return new Response(body, {
    status: 200,
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="ledger-${ctx.org.slug}-${day}.csv"`,
      'cache-control': 'no-store',
    },
  });
});
