import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '@/lib/db/client.ts';
import { getLedgerContext } from '@/lib/ledger/context.ts';
import { releaseReservation, reserveCredits } from '@/lib/ledger/metering.ts';
import { checkLedger } from '@/lib/ledger/queries.ts';
import { createOrgPriceVersion } from '@/lib/pricing/org-prices.ts';
import { getUsageRecord, listUsageRecords, summarizeUsage } from '@/lib/usage/queries.ts';
import { recordUsage } from '@/lib/usage/records.ts';
import { callJson, createTestMember, createTestOrg, type TestOrg } from '@/lib/test/api-fixture.ts';
import { useTestDatabase } from '@/lib/test/db-harness.ts';
import { POST as allocate } from './allocations/route.ts';
import { POST as estimate } from './estimate/route.ts';
import { POST as grant } from './grants/route.ts';
import { POST as reserve } from './reservations/route.ts';
import { POST as commit } from './reservations/[id]/commit/route.ts';
import { POST as usage } from './usage/route.ts';
import { POST as usageBatch } from './usage/batch/route.ts';
import { GET as transactions } from './transactions/route.ts';
import { GET as usageRecords } from './usage/records/route.ts';

let db: Db;
let org: TestOrg;
let meterKeyId: string;

beforeAll(async () => {
  db = (await useTestDatabase()).db;
  org = await createTestOrg(db, 'priced');
  meterKeyId = (await db.apiKey.findFirstOrThrow({ where: { orgId: org.id, name: 'meter' } })).id;
  for (const name of ['ada', 'bob']) await createTestMember(db, org.id, name);
  await callJson(grant, '/api/v1/grants', { key: org.keys.admin, body: { amount: '1000', reason: 'Seed' } });
  for (const user of ['ada', 'bob']) {
    await callJson(allocate, '/api/v1/allocations', { key: org.keys.admin, body: { user, amount: '100' } });
  }
});

afterAll(async () => {
  expect(await checkLedger(getLedgerContext(), org.id)).toEqual([]);
  await db.$disconnect();
});

const records = () => db.usageRecord.findMany({ where: { orgId: org.id }, orderBy: { createdAt: 'asc' } });
const commitPath = (id: string) => `/api/v1/reservations/${id}/commit`;

async function expectRollupsMatchRecords() {
  const [rec] = await db.$queryRawUnsafe<Array<{ n: bigint; cost: bigint; input: bigint }>>(
    'SELECT count(*) AS n, coalesce(sum(cost), 0)::bigint AS cost, coalesce(sum(input_tokens), 0)::bigint AS input FROM usage_records WHERE org_id = $1::uuid',
    org.id,
  );
  const [roll] = await db.$queryRawUnsafe<Array<{ n: bigint; cost: bigint; input: bigint }>>(
    'SELECT coalesce(sum(requests), 0)::bigint AS n, coalesce(sum(cost), 0)::bigint AS cost, coalesce(sum(input_tokens), 0)::bigint AS input FROM usage_rollups_hourly WHERE org_id = $1::uuid',
    org.id,
  );
  expect(roll).toEqual(rec);
}

describe('POST /api/v1/estimate', () => {
  it('estimates without holding, from tokens or messages', async () => {
    const given = await callJson(estimate, '/api/v1/estimate', {
      key: org.keys.read,
      body: { model: 'gpt-4o', input_tokens: 1000, max_output_tokens: 500 },
    });
    expect(given.status).toBe(200);
    // 1000×2.5 + 500×10 = USD 0.0075 at 100 credits per USD
    expect(given.body).toMatchObject({ model: 'gpt-4o', provider: 'openai', input_tokens: 1000, output_tokens: 500, amount: '0.75', counted_with: 'given' });
    const counted = await callJson(estimate, '/api/v1/estimate', {
      key: org.keys.meter,
      body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'hello world' }] },
    });
    // 9 input tokens; output capped by the default policy cap of 4096 (gpt-4o may write 16384)
    expect(counted.body).toMatchObject({ input_tokens: 9, output_tokens: 4096, counted_with: 'o200k_base' });
    expect(await db.reservation.count({ where: { orgId: org.id } })).toBe(0);
  });

  it('refuses unknown models and malformed requests', async () => {
    const unknown = await callJson(estimate, '/api/v1/estimate', { key: org.keys.meter, body: { model: 'no-such-model-xyz', input_tokens: 1 } });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.code).toBe('unknown_model');
    const both = await callJson(estimate, '/api/v1/estimate', { key: org.keys.meter, body: { model: 'gpt-4o', input_tokens: 1, prompt: 'x' } });
    expect(both.status).toBe(422);
    expect((await callJson(estimate, '/api/v1/estimate', { body: { model: 'gpt-4o', input_tokens: 1 } })).status).toBe(401);
  });
});

describe('model-based reservations and commits', () => {
  it('holds the estimate, charges exactly the priced usage and writes one record and rollup', async () => {
    const held = await callJson(reserve, '/api/v1/reservations', {
      key: org.keys.meter,
      body: { user: 'ada', model: 'gpt-4o', estimate: { input_tokens: 1000, max_output_tokens: 500 }, metadata: { task: 'chat' } },
    });
    expect(held.status).toBe(201);
    expect(held.body.amount).toBe('0.75');
    const body = { usage: { model: 'gpt-4o', input_tokens: 1000, cached_input_tokens: 400, output_tokens: 200 } };
    const committed = await callJson(commit, commitPath(held.body.id), { key: org.keys.meter, params: { id: held.body.id }, body });
    // 600×2.5 + 400×1.25 + 200×10 = USD 0.004 = 0.4 credits
    expect(committed.status).toBe(200);
    expect(committed.body).toMatchObject({ charged: '0.4', released: '0.35' });
    const again = await callJson(commit, commitPath(held.body.id), { key: org.keys.meter, params: { id: held.body.id }, body });
    expect(again.body).toEqual(committed.body);

    const rows = await records();
    expect(rows).toHaveLength(1);
    const catalog = await db.priceVersion.findFirstOrThrow({ where: { orgId: null } });
    expect(rows[0]).toMatchObject({
      model: 'gpt-4o',
      provider: 'openai',
      inputTokens: 1000n,
      cachedInputTokens: 400n,
      outputTokens: 200n,
      cost: 400_000n,
      status: 'ok',
      apiKeyId: meterKeyId,
      reservationId: held.body.id,
      transactionId: committed.body.transaction_id,
      priceVersionId: catalog.id,
      metadata: { task: 'chat' },
    });
    const entries = await db.ledgerEntry.findMany({ where: { transactionId: committed.body.transaction_id, amount: { gt: 0 } } });
    expect(entries.map((e) => e.amount)).toEqual([400_000n]);
    await expectRollupsMatchRecords();
  });

  it('refuses an unknown model or both amount and usage with no effect', async () => {
    const held = await callJson(reserve, '/api/v1/reservations', { key: org.keys.meter, body: { user: 'bob', amount: '1' } });
    const unknown = await callJson(commit, commitPath(held.body.id), {
      key: org.keys.meter,
      params: { id: held.body.id },
      body: { usage: { model: 'no-such-model-xyz', input_tokens: 1, output_tokens: 1 } },
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.code).toBe('unknown_model');
    const both = await callJson(commit, commitPath(held.body.id), {
      key: org.keys.meter,
      params: { id: held.body.id },
      body: { amount: '1', usage: { model: 'gpt-4o', input_tokens: 1, output_tokens: 1 } },
    });
    expect(both.status).toBe(422);
    const reserveBoth = await callJson(reserve, '/api/v1/reservations', {
      key: org.keys.meter,
      body: { user: 'bob', amount: '1', model: 'gpt-4o', estimate: { input_tokens: 1 } },
    });
    expect(reserveBoth.status).toBe(422);
    const reserveUnknown = await callJson(reserve, '/api/v1/reservations', {
      key: org.keys.meter,
      body: { user: 'bob', model: 'no-such-model-xyz', estimate: { input_tokens: 1 } },
    });
    expect(reserveUnknown.body.error.code).toBe('unknown_model');
    expect((await db.reservation.findUniqueOrThrow({ where: { id: held.body.id } })).status).toBe('active');
    expect(await db.usageRecord.count({ where: { reservationId: held.body.id } })).toBe(0);
    // An amount commit still gets its record, without a model.
    const plain = await callJson(commit, commitPath(held.body.id), { key: org.keys.meter, params: { id: held.body.id }, body: { amount: '0.25' } });
    expect(plain.status).toBe(200);
    expect(await db.usageRecord.findUniqueOrThrow({ where: { reservationId: held.body.id } })).toMatchObject({
      model: null,
      cost: 250_000n,
      apiKeyId: meterKeyId,
    });
    await expectRollupsMatchRecords();
  });
});

describe('model-based usage events', () => {
  it('prices an event once; a duplicate makes no second record', async () => {
    const event = { id: 'evt-1', user: 'ada', model: 'claude-sonnet-4-5', input_tokens: 10_000, cached_input_tokens: 2000, cache_write_tokens: 3000, output_tokens: 1000 };
    const first = await callJson(usage, '/api/v1/usage', { key: org.keys.meter, body: event });
    // 5000×3 + 2000×0.3 + 3000×3.75 + 1000×15 = USD 0.04185
    expect(first.status).toBe(201);
    expect(first.body.charged).toBe('4.185');
    const dup = await callJson(usage, '/api/v1/usage', { key: org.keys.meter, body: event });
    expect(dup.status).toBe(200);
    expect(dup.body.status).toBe('duplicate');
    const rows = await db.usageRecord.findMany({ where: { orgId: org.id, model: 'claude-sonnet-4-5' } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ cost: 4_185_000n, cacheWriteTokens: 3000n, transactionId: first.body.transaction_id });
    // The ledger names what the charge paid for.
    const ledger = await callJson(transactions, '/api/v1/transactions?user=ada&kind=charge', { key: org.keys.read });
    expect(ledger.body.data.find((t: { id: string }) => t.id === first.body.transaction_id)).toMatchObject({
      usage: { model: 'claude-sonnet-4-5', input_tokens: 10_000, output_tokens: 1000, cached_input_tokens: 2000, reasoning_tokens: 0 },
      amount: '-4.185',
    });
    const unknown = await callJson(usage, '/api/v1/usage', { key: org.keys.meter, body: { ...event, id: 'evt-2', model: 'no-such-model-xyz' } });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.code).toBe('unknown_model');
    expect(await db.usageEvent.count({ where: { orgId: org.id, eventId: 'evt-2' } })).toBe(0);
    await expectRollupsMatchRecords();
  });

  it('prices batches per event, rejecting unknown models alone', async () => {
    const events = [
      { id: 'b-1', user: 'ada', model: 'gpt-4o-mini', input_tokens: 1234, output_tokens: 567 },
      { id: 'b-2', user: 'bob', amount: '0.5' },
      { id: 'b-3', user: 'bob', model: 'no-such-model-xyz', input_tokens: 1, output_tokens: 1 },
      { id: 'b-4', user: 'ada', model: 'gpt-4o', input_tokens: 0, output_tokens: 0 },
    ];
    const res = await callJson(usageBatch, '/api/v1/usage/batch', { key: org.keys.meter, body: { events } });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(['charged', 'charged', 'rejected', 'charged']);
    expect(res.body.results[0].charged).toBe('0.05253');
    expect(res.body.results[2].error.code).toBe('unknown_model');
    const byEvent = await db.usageRecord.findMany({ where: { orgId: org.id, usageEventId: { not: null } } });
    expect(byEvent.map((r) => Number(r.cost)).sort((a, b) => a - b)).toEqual([0, 52_530, 500_000, 4_185_000]);
    await callJson(usageBatch, '/api/v1/usage/batch', { key: org.keys.meter, body: { events } });
    expect(await db.usageRecord.count({ where: { orgId: org.id, usageEventId: { not: null } } })).toBe(4);
    await expectRollupsMatchRecords();
  });
});

describe('price changes, releases and uncharged requests', () => {
  it('prices new usage by the new version while old records keep theirs', async () => {
    const before = await db.usageRecord.findFirstOrThrow({ where: { orgId: org.id, model: 'gpt-4o', reservationId: { not: null } } });
    const version = await createOrgPriceVersion(getLedgerContext(), org.id, { models: [{ model: 'gpt-4o', provider: 'openai', input: '5', output: '20' }] }, null);
    const res = await callJson(usage, '/api/v1/usage', { key: org.keys.meter, body: { id: 'after-change', user: 'ada', model: 'gpt-4o', input_tokens: 1000, output_tokens: 500 } });
    // 1000×5 + 500×20 = USD 0.015 = 1.5 credits
    expect(res.body.charged).toBe('1.5');
    expect(await db.usageRecord.findFirstOrThrow({ where: { orgId: org.id, requestId: null, cost: 1_500_000n } })).toMatchObject({ priceVersionId: version.id, orgPriceVersionId: version.id });
    expect(await db.usageRecord.findUniqueOrThrow({ where: { id: before.id } })).toEqual(before);
  });

  it('records released holds and failed requests at no cost', async () => {
    const ctx = getLedgerContext();
    const actor = { type: 'api_key', apiKeyId: meterKeyId } as const;
    const held = await reserveCredits(ctx, org.id, { user: 'bob', model: 'gpt-4o-mini', estimate: { prompt: 'hello', max_output_tokens: 100 } }, actor, undefined, { request_id: 'req-1' });
    await releaseReservation(ctx, org.id, held.id, actor, undefined, { status: 'error', latency_ms: 1200 });
    expect(await db.usageRecord.findUniqueOrThrow({ where: { reservationId: held.id } })).toMatchObject({
      model: 'gpt-4o-mini', status: 'error', cost: 0n, latencyMs: 1200, requestId: 'req-1', apiKeyId: meterKeyId,
    });
    const id = await recordUsage(ctx, org.id, { user: 'ada', model: 'gpt-4o', request_id: 'req-2', latency_ms: 30 }, actor);
    expect(await db.usageRecord.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: 'error', cost: 0n, apiKeyId: meterKeyId });
    await expect(recordUsage(ctx, org.id, { latency_ms: -1 }, actor)).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(
      reserveCredits(ctx, org.id, { user: 'bob', amount: 1n }, actor, undefined, { status: 'weird' as 'ok' }),
    ).rejects.toMatchObject({ code: 'validation_failed' });
    await expectRollupsMatchRecords();
  });
});

describe('reading usage records', () => {
  it('pages the log by filter and shows a request with its receipt', async () => {
    const all = await records();
    const page1 = await listUsageRecords(db, org.id, {}, 3);
    expect(page1.data).toHaveLength(3);
    const page2 = await listUsageRecords(db, org.id, { cursor: page1.next_cursor! }, 100);
    expect(page1.data.length + page2.data.length).toBe(all.length);
    const errors = await listUsageRecords(db, org.id, { status: 'error' });
    expect(errors.data.every((r) => r.status === 'error')).toBe(true);
    expect(errors.data.length).toBe(2);
    const byModel = await listUsageRecords(db, org.id, { model: 'claude-sonnet-4-5', apiKeyId: meterKeyId });
    expect(byModel.data).toHaveLength(1);
    expect(await summarizeUsage(db, org.id, { model: 'claude-sonnet-4-5', apiKeyId: meterKeyId })).toEqual({
      requests: 1n,
      inputTokens: 10_000n,
      outputTokens: 1000n,
      cost: 4_185_000n,
    });
    const total = await summarizeUsage(db, org.id, { from: new Date(Date.now() - 86_400_000), to: new Date(Date.now() + 86_400_000) });
    expect(total.requests).toBe(BigInt(all.length));
    expect(total.cost).toBe(all.reduce((sum, r) => sum + r.cost, 0n));

    const detail = await getUsageRecord(db, org.id, byModel.data[0].id);
    expect(detail.receipt.reduce((sum, line) => sum + line.amount, 0n)).toBe(0n);
    expect(detail.receipt.find((l) => l.account === 'consumption')?.amount).toBe(4_185_000n);
    expect(detail.priceVersion?.orgId).toBeNull();
    const api = await callJson(usageRecords, `/api/v1/usage/records?model=claude-sonnet-4-5&user=ada`, { key: org.keys.read });
    expect(api.status).toBe(200);
    expect(api.body.data).toEqual([
      expect.objectContaining({
        model: 'claude-sonnet-4-5',
        cost: '4.185',
        input_tokens: 10_000,
        cached_input_tokens: 2000,
        cache_write_tokens: 3000,
        status: 'ok',
        api_key_id: meterKeyId,
        usage_event_id: expect.any(String),
      }),
    ]);
    const paged = await callJson(usageRecords, '/api/v1/usage/records?limit=2', { key: org.keys.meter });
    expect(paged.body.data).toHaveLength(2);
    const rest = await callJson(usageRecords, `/api/v1/usage/records?limit=200&cursor=${paged.body.next_cursor}`, { key: org.keys.meter });
    expect(paged.body.data.length + rest.body.data.length).toBe(all.length);
    expect((await callJson(usageRecords, '/api/v1/usage/records?status=weird', { key: org.keys.read })).status).toBe(422);
    expect((await callJson(usageRecords, '/api/v1/usage/records?user=nobody', { key: org.keys.read })).status).toBe(404);
    const other = await createTestOrg(db, 'priced-other');
    expect((await callJson(usageRecords, '/api/v1/usage/records', { key: other.keys.read })).body.data).toEqual([]);
    await expect(getUsageRecord(db, other.id, byModel.data[0].id)).rejects.toMatchObject({ code: 'not_found' });
  });
});
