/**
 * The credit ledger: org pools, member allocations, holds and charges, exact under concurrency.
 *
 * What it owns
 * - Accounts: one per org pool, per member (their allocation) and per system purpose (purchases,
 *   promotions, consumption, breakage, adjustments). Customer accounts store balance, held and debt; system
 *   accounts store none (theirs is the sum of their entries).
 * - A double-entry journal: every movement is one ledger_transactions row whose ledger_entries sum to zero
 *   (checked by a trigger on every insert); entries and transactions are immutable (a trigger refuses updates
 *   and deletes), so a correction is a new transaction.
 * - Lots: every credit entering a customer account is a lot with its source, amount, remainder, priority and
 *   expiry. Spending draws by priority (high first), then earliest expiry, then oldest; each charge's entries
 *   name the lots that paid (its receipt). Moved credits keep their lot's expiry and priority.
 * - Reservations (holds): reserving sets the amount aside from the lots at once, so available = unexpired lot
 *   remainders − debt, and a hold stays good even if its lots expire before the commit. A hold resolves exactly
 *   once: commit (at most the hold, more only within available + overdraft), release, or expiry.
 * - Usage events, deduplicated per org by the client's id; idempotency keys stored with their result in the
 *   transaction of the effect.
 * - Metering inputs (model-inputs.ts): an amount, or a model priced by lib/pricing — a hold of a request's
 *   estimate, a commit or usage event priced from its tokens. What the request was (model, tokens, price
 *   version, API key) travels in the operation's metadata to its usage record (lib/usage), which the database
 *   writes in the transaction of the charge.
 *
 * Invariants (ledger_check in the database returns every violation; the tests run it after every step)
 * - each transaction sums to zero; stored balances equal the sum of their entries; held equals the active
 *   holds; a lot's remainder equals its entries minus what active holds set aside from it; debt equals what
 *   overdraft took; available ≥ −overdraft limit; no reservation is charged twice; no expired lot ever pays.
 *
 * Why it is safe under concurrency
 * - All changes go through the database functions of the ledger migrations (ledger_apply for operations,
 *   ledger_usage_batch for batches). Each call is one SQL statement from here, so no transaction is ever held
 *   open across a network call. Inside, it first locks every customer account it touches with SELECT … FOR
 *   UPDATE in id order, and only then reads and writes that account's lots, holds and reservations; in
 *   PostgreSQL's READ COMMITTED each later statement sees everything committed before the lock was granted.
 *   Two calls can therefore never spend the same credits, and the single lock order rules out deadlocks.
 * - Expiry is decided by the database clock (a test may pass its own), and an account's sweep_at tells when
 *   something may have expired: until then available is balance − held, one row read; after it the account is
 *   swept before it is used.
 * - Hot accounts are coalesced (coalescer.ts): operations arriving while a batch for the same account is in
 *   the database go together in the next batch — one lock, one transaction, one WAL flush for many calls.
 * - A batch of plain reserves and commits that all succeed is applied set-based (ledger_fast_batch: a handful
 *   of statements for the whole batch instead of a dozen per operation), under the same account locks. It
 *   checks everything first and declines, before writing anything, whatever it does not handle (other
 *   operations, pool funding, debt, something due to expire, a stored Idempotency-Key, a reserve that might
 *   not fit); ledger_apply then runs the batch one operation at a time. Operations of one batch are concurrent
 *   requests, so running its commits before its reserves is a valid order. The model-based test runs once on
 *   each path.
 */
export { getLedgerContext, type LedgerContext } from './context.ts';
export { ensureOrgLedger, resolveMember } from './accounts.ts';
export { allocateCredits, addPurchasedCredits, grantCredits, reclaimCredits, transferCredits } from './credits.ts';
export { commitReservation, recordUsage, recordUsageBatch, releaseReservation, reserveCredits } from './metering.ts';
export { checkLedger, getBalance, listLots, listTransactions } from './queries.ts';
