/**
 * Usage records: one per LLM request — org, member, API key, model, provider, tokens by kind, cost in
 * micro-credits, price versions, latency, status, request id, metadata, time, and the ledger transaction,
 * reservation or usage event it came from — and their hourly rollups.
 *
 * What it owns
 * - The facts a metered request carries to its record (carrier.ts): metering puts them under the reserved
 *   metadata key "$usage" of its ledger operation.
 * - Records of requests that charged nothing (records.ts: recordUsage, and released holds).
 * - Reading records for the usage log, with each charge's receipt (queries.ts).
 *
 * Invariants
 * - A charge never exists without its record: the database writes the record in the transaction of the
 *   charge (triggers on reservations committing and on usage events arriving, in the pricing migration), with
 *   the cost the ledger charged. A reservation and a usage event have at most one record each (unique
 *   columns), so a retried or duplicated request never makes two.
 * - usage_rollups_hourly always equals the sum of the records per (org, hour, member, model, API key,
 *   status): a statement trigger on usage_records adds each batch of new records with INSERT … ON CONFLICT DO
 *   UPDATE, in key order; concurrent writers serialize per row, and since the member is in the key, charges
 *   of different members never wait on each other (see the pricing migration for the pool-funded case).
 * - Records are never updated except to name the transaction of a usage event (written just after it).
 */
export { requestInfoSchema, type RequestInfo } from './carrier.ts';
export { recordUsage, type UnchargedUsage } from './records.ts';
