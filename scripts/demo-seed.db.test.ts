import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgPool } from '@/lib/db/pg.ts';
import { pgRunner } from '@/lib/ledger/apply.ts';
import type { LedgerContext } from '@/lib/ledger/context.ts';
import { checkLedger, getBalance } from '@/lib/ledger/queries.ts';
import { parseCredits } from '@/lib/money/credits.ts';
import { useTestDatabase, type TestDatabase } from '@/lib/test/db-harness.ts';
import { DEMO_ORG, demoUsageEvents, seedDemoOnce } from '../prisma/seed.ts';

let t: TestDatabase;
let ctx: LedgerContext;
let dataDir: string;

beforeAll(async () => {
  t = await useTestDatabase();
  ctx = { db: t.db, run: pgRunner(createPgPool(t.url, 2)) };
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'credits-demo-'));
});

afterAll(async () => {
  rmSync(dataDir, { recursive: true, force: true });
  await t.db.$disconnect();
});

describe('the demo data of a first start', () => {
  it('gives the demo org credits, allocations and two weeks of priced usage, exactly, once', async () => {
    const seeded = await seedDemoOnce(t.url, dataDir);
    expect(seeded).toMatchObject({ created: true, email: 'admin@acme.test', org: DEMO_ORG.slug });
    expect(JSON.parse(readFileSync(seeded!.file, 'utf8')).password).toBe(seeded!.password);
    const org = await t.db.org.findUniqueOrThrow({ where: { slug: DEMO_ORG.slug } });
    expect(await checkLedger(ctx, org.id)).toEqual([]);

    // The pool keeps what was not allocated: 2,000 + 500 - 600 - 300 - 150.
    expect((await getBalance(ctx, org.id)).available).toBe('1450');
    const records = await t.db.usageRecord.findMany({ where: { orgId: org.id }, select: { model: true, cost: true, status: true, occurredAt: true, priceVersionId: true, membershipId: true, apiKeyId: true } });
    expect(records.length).toBeGreaterThan(200);
    expect(new Set(records.map((r) => r.model))).toEqual(new Set(['gpt-4o', 'gpt-4o-mini']));
    // Metered by the demo backend's key, as an LLM backend would.
    const key = await t.db.apiKey.findFirstOrThrow({ where: { orgId: org.id, name: 'Demo backend' } });
    expect(key.scopes).toEqual(['meter']);
    expect(records.every((r) => r.priceVersionId !== null && r.membershipId !== null && r.apiKeyId === key.id)).toBe(true);
    expect(records.some((r) => r.status === 'error')).toBe(true);
    expect(records.every((r) => (r.status === 'error') === (r.cost === 0n))).toBe(true);
    const days = new Set(records.map((r) => r.occurredAt.toISOString().slice(0, 10)));
    expect(days.size).toBe(14);
    // Every member spent from their own allocation (the transfer moved 50 from Grace to Ada), none ran out.
    const spent = records.reduce((sum, r) => sum + r.cost, 0n);
    const members = await Promise.all(['user-ada', 'user-grace'].map((user) => getBalance(ctx, org.id, user)));
    const admin = await t.db.user.findUniqueOrThrow({ where: { email: 'admin@acme.test' } });
    members.push(await getBalance(ctx, org.id, admin.id));
    const available = members.map((b) => parseCredits(b.available));
    expect(available.every((a) => a > 0n)).toBe(true);
    expect(available.reduce((sum, a) => sum + a, 0n)).toBe(parseCredits('1050') - spent);

    // A later start leaves the database alone.
    expect(await seedDemoOnce(t.url, dataDir)).toMatchObject({ created: false, password: seeded!.password });
    expect(await t.db.usageRecord.count({ where: { orgId: org.id } })).toBe(records.length);
  });

  it('spreads the requests over working hours of the last two weeks, fewer at weekends', () => {
    const now = new Date('2026-11-26T12:00:00Z');
    const events = demoUsageEvents(now, 'admin-id');
    expect(events).toEqual(demoUsageEvents(now, 'admin-id'));
    const hours = events.map((e) => new Date(e.timestamp!).getUTCHours());
    expect(Math.min(...hours)).toBeGreaterThanOrEqual(8);
    expect(Math.max(...hours)).toBeLessThan(18);
    const perDay = new Map<string, number>();
    for (const e of events) perDay.set(e.timestamp!.slice(0, 10), (perDay.get(e.timestamp!.slice(0, 10)) ?? 0) + 1);
    // 2026-11-21 is a Saturday, 2026-11-23 a Monday.
    expect(perDay.get('2026-11-21')!).toBeLessThan(perDay.get('2026-11-23')! / 2);
    expect(new Set(events.map((e) => e.user))).toEqual(new Set(['user-ada', 'user-grace', 'admin-id']));
  });
});
