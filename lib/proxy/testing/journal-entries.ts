/** Settlement journal lines for tests of the journal and of reconcile: request n's charge of 70 micro-credits. */
import type { PendingSettlement } from '../settlement-journal.ts';

export const pendingSettlement = (n: number): PendingSettlement => ({
  at: new Date(0).toISOString(),
  orgId: 'org',
  reservationId: `r${n}`,
  requestId: `q${n}`,
  apiKeyId: 'key',
  endpoint: 'chat.completions',
  usage: { model: 'gpt-test', input_tokens: 1, output_tokens: 2 },
  quote: { charged: '70', terms: {} },
});
