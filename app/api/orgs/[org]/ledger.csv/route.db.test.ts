import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SessionUser } from '@/lib/auth/session.ts';
import type { Db } from '@/lib/db/client.ts';
import { createPgPool } from '@/lib/db/pg.ts';
import { pgRunner } from '@/lib/ledger/apply.ts';
import type { LedgerContext } from '@/lib/ledger/context.ts';
import { allocateCredits, grantCredits } from '@/lib/ledger/credits.ts';
import { createOrg } from '@/lib/orgs/orgs.ts';
import { useTestDatabase } from '@/lib/test/db-harness.ts';
import { createUser } from '@/lib/users/create-user.ts';

const session = vi.hoisted(() => ({ user: null as SessionUser | null }));
vi.mock('@/lib/auth/session.ts', () => ({
  getSessionUser: async () => session.user,
  signInPath: (callbackUrl?: string) => `/sign-in?callbackUrl=${encodeURIComponent(callbackUrl ?? '/')}`,
}));

const { GET } = await import('./route.ts');

const system = { type: 'system' } as const;
let db: Db;
let ledger: LedgerContext;
let billing: SessionUser;
let member: SessionUser;

const get = (query = '') =>
  GET(new Request(`http://localhost/api/orgs/csv-acme/ledger.csv${query}`), { params: Promise.resolve({ org: 'csv-acme' }) });

beforeAll(async () => {
  const t = await useTestDatabase();
  db = t.db;
  ledger = { db, run: pgRunner(createPgPool(t.url, 4)) };
  const org = await createOrg(db, { slug: 'csv-acme', name: 'CSV Acme' }, system);
  const other = await createOrg(db, { slug: 'csv-other', name: 'Other' }, system);
  const b = await createUser(db, { email: 'billing@csv.test', org: { id: org.id, role: 'billing' } }, system);
  billing = { id: b.user.id, email: 'billing@csv.test', name: null };
  const m = await createUser(db, { email: 'member@csv.test', org: { id: org.id, role: 'member' } }, system);
  member = { id: m.user.id, email: 'member@csv.test', name: null };
  await grantCredits(ledger, org.id, { amount: 500_000_000n, reason: 'Launch, "beta"' }, system);
  // More transactions than one page of the export, so it has to page through the journal.
  for (let i = 0; i < 205; i++) await allocateCredits(ledger, org.id, { user: member.id, amount: 1_000_000n }, system);
  await grantCredits(ledger, other.id, { amount: 1_000_000n, reason: 'Not theirs' }, system);
});

afterAll(async () => {
  await db.$disconnect();
});

describe('GET /api/orgs/[org]/ledger.csv', () => {
  it('streams every entry of the filtered journal as an attachment', async () => {
    session.user = billing;
    const res = await get();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="ledger-csv-acme-\d{4}-\d{2}-\d{2}\.csv"$/);
    const lines = (await res.text()).split('\r\n');
    expect(lines[0]).toBe('transaction_id,created_at,kind,memo,account,user,amount,lot_id,lot_source,lot_expires_at,occurred_at,model,input_tokens,output_tokens');
    expect(lines.at(-1)).toBe('');
    const records = lines.slice(1, -1);
    // 206 transactions of two entries each; the other org's grant is not there.
    expect(records).toHaveLength(412);
    expect(new Set(records.map((r) => r.split(',')[0])).size).toBe(206);
    expect(records.filter((r) => r.includes(',grant,'))).toEqual([
      expect.stringMatching(/,grant,"Launch, ""beta""",pool,,500,[0-9a-f-]{36},promotion,,[0-9TZ:.-]{24},,,$/),
      expect.stringMatching(/,grant,"Launch, ""beta""",system:promotions,,-500,,,,[0-9TZ:.-]{24},,,$/),
    ]);
    expect(records.join('\n')).not.toContain('Not theirs');

    const grants = (await (await get('?kind=grant')).text()).split('\r\n').slice(1, -1);
    expect(grants).toHaveLength(2);
  });

  it('answers bad filters as JSON errors and refuses members', async () => {
    session.user = billing;
    const bad = await get('?kind=gift');
    expect(bad.status).toBe(422);
    expect((await bad.json()).error).toMatchObject({ code: 'validation_failed', details: { field: 'kind' } });
    expect((await get('?user=nobody')).status).toBe(404);
    session.user = member;
    expect((await get()).status).toBe(403);
  });
});
