import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SessionUser } from '@/lib/auth/session.ts';
import type { Db } from '@/lib/db/client.ts';
import { createPgPool } from '@/lib/db/pg.ts';
import { pgRunner } from '@/lib/ledger/apply.ts';
import type { LedgerContext } from '@/lib/ledger/context.ts';
import { grantCredits } from '@/lib/ledger/credits.ts';
import { checkLedger, getBalance } from '@/lib/ledger/queries.ts';
import { createOrg } from '@/lib/orgs/orgs.ts';
import { useTestDatabase } from '@/lib/test/db-harness.ts';
import { createUser } from '@/lib/users/create-user.ts';

// The route reads the signed-in user from the session; here the test decides who that is.
const session = vi.hoisted(() => ({ user: null as SessionUser | null }));
vi.mock('@/lib/auth/session.ts', () => ({
  getSessionUser: async () => session.user,
  signInPath: (callbackUrl?: string) => `/sign-in?callbackUrl=${encodeURIComponent(callbackUrl ?? '/')}`,
}));

const { POST } = await import('./route.ts');

const system = { type: 'system' } as const;
let db: Db;
let ledger: LedgerContext;
let orgId: string;
const people = {} as Record<'admin' | 'billing' | 'member' | 'byExternalId' | 'outsider', SessionUser>;

function asUser(user: SessionUser | null) {
  session.user = user;
}

function post(body: unknown, init: { contentType?: string } = {}) {
  return POST(
    new Request('http://localhost/api/orgs/bulk-acme/allocations/bulk', {
      method: 'POST',
      headers: { 'content-type': init.contentType ?? 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
    { params: Promise.resolve({ org: 'bulk-acme' }) },
  );
}

async function person(org: string, email: string, role: 'owner' | 'admin' | 'billing' | 'member', externalId?: string) {
  const { user } = await createUser(db, { email, name: email, externalId, org: { id: org, role } }, system);
  return { id: user.id, email, name: email };
}

beforeAll(async () => {
  const t = await useTestDatabase();
  db = t.db;
  ledger = { db, run: pgRunner(createPgPool(t.url, 4)) };
  const org = await createOrg(db, { slug: 'bulk-acme', name: 'Bulk Acme' }, system);
  const other = await createOrg(db, { slug: 'bulk-other', name: 'Other' }, system);
  orgId = org.id;
  people.admin = await person(org.id, 'admin@bulk.test', 'admin');
  people.billing = await person(org.id, 'billing@bulk.test', 'billing');
  people.member = await person(org.id, 'member@bulk.test', 'member');
  people.byExternalId = await person(org.id, 'ext@bulk.test', 'member', 'ext-7');
  people.outsider = await person(other.id, 'outsider@other.test', 'member');
  await grantCredits(ledger, org.id, { amount: 100_000_000n, reason: 'budget' }, system);
});

afterAll(async () => {
  await db.$disconnect();
});

describe('POST /api/orgs/[org]/allocations/bulk', () => {
  it('allocates each row once, even when the chunk is sent again', async () => {
    asUser(people.admin);
    const chunk = {
      upload_id: randomUUID(),
      rows: [
        { row: 2, user: 'Member@Bulk.test', amount: '10' },
        { row: 3, user: 'ext-7', amount: '2.5' },
        { row: 4, user: people.member.id, amount: '0.000001' },
      ],
    };
    const first = await post(chunk);
    expect(first.status).toBe(200);
    const firstBody = await first.json();
    expect(firstBody.results).toEqual([
      { row: 2, ok: true, user_id: people.member.id, amount: '10', balance: { available: '10', reserved: '0' } },
      { row: 3, ok: true, user_id: people.byExternalId.id, amount: '2.5', balance: { available: '2.5', reserved: '0' } },
      { row: 4, ok: true, user_id: people.member.id, amount: '0.000001', balance: { available: '10.000001', reserved: '0' } },
    ]);

    // The same chunk again, as after a lost response: the same answers, nothing allocated twice.
    const again = await post(chunk);
    expect(await again.json()).toEqual(firstBody);
    expect((await getBalance(ledger, orgId, people.member.id)).available).toBe('10.000001');
    expect((await getBalance(ledger, orgId, people.byExternalId.id)).available).toBe('2.5');
    expect((await getBalance(ledger, orgId)).available).toBe('87.499999');
    expect(await db.ledgerTransaction.count({ where: { orgId, kind: 'allocation' } })).toBe(3);

    // The same row of the same upload with another amount is refused, not applied.
    const changed = await post({ upload_id: chunk.upload_id, rows: [{ row: 2, user: 'member@bulk.test', amount: '11' }] });
    expect((await changed.json()).results).toEqual([
      { row: 2, ok: false, error: { code: 'idempotency_mismatch', message: expect.any(String) } },
    ]);
    expect(await checkLedger(ledger, orgId)).toEqual([]);
  });

  it('answers a row error for members of another org, unknown users, bad amounts and a short pool', async () => {
    asUser(people.admin);
    const res = await post({
      upload_id: randomUUID(),
      rows: [
        { row: 1, user: people.outsider.id, amount: '1' },
        { row: 2, user: 'outsider@other.test', amount: '1' },
        { row: 3, user: 'nobody', amount: '1' },
        { row: 4, user: 'member@bulk.test', amount: '1.2345678' },
        { row: 5, user: 'member@bulk.test', amount: '0' },
        { row: 6, user: 'member@bulk.test', amount: '1000' },
        { row: 7, user: 'member@bulk.test', amount: '1' },
      ],
    });
    expect(res.status).toBe(200);
    const { results } = await res.json();
    expect(results.map((r: { row: number; ok: boolean; error?: { code: string } }) => [r.row, r.ok ? 'ok' : r.error?.code])).toEqual([
      [1, 'not_found'],
      [2, 'not_found'],
      [3, 'not_found'],
      [4, 'validation_failed'],
      [5, 'validation_failed'],
      [6, 'insufficient_credits'],
      [7, 'ok'],
    ]);
    // Nothing reached the outsider, in this org or theirs.
    expect(await db.ledgerAccount.count({ where: { membership: { userId: people.outsider.id }, balance: { not: 0n } } })).toBe(0);
    expect(await checkLedger(ledger, orgId)).toEqual([]);
  });

  it('is for owners and admins only', async () => {
    const body = { upload_id: randomUUID(), rows: [{ row: 1, user: 'member@bulk.test', amount: '1' }] };
    for (const [user, status] of [
      [people.billing, 403],
      [people.member, 403],
      [people.outsider, 404],
      [null, 401],
    ] as const) {
      asUser(user);
      const res = await post(body);
      expect(res.status).toBe(status);
    }
    expect(await db.idempotencyKey.count({ where: { orgId, key: { startsWith: `bulk-allocation:${body.upload_id}` } } })).toBe(0);
  });

  it('refuses bodies that are not JSON, too large or malformed', async () => {
    asUser(people.admin);
    const row = (n: number) => ({ row: n, user: 'member@bulk.test', amount: '1' });
    expect((await post({ upload_id: randomUUID(), rows: [row(1)] }, { contentType: 'text/plain' })).status).toBe(400);
    expect((await post('{"upload_id":')).status).toBe(400);
    const tooMany = Array.from({ length: 51 }, (_, i) => row(i + 1));
    expect((await post({ upload_id: randomUUID(), rows: tooMany })).status).toBe(422);
    expect((await post({ upload_id: 'not-a-uuid', rows: [row(1)] })).status).toBe(422);
    expect((await post({ upload_id: randomUUID(), rows: [row(1), row(1)] })).status).toBe(422);
  });
});
