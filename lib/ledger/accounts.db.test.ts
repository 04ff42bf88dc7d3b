import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgPool } from '../db/pg.ts';
import { createOrg } from '../orgs/orgs.ts';
import { useTestDatabase, type TestDatabase } from '../test/db-harness.ts';
import { createUser } from '../users/create-user.ts';
import { resolveMember, resolveMembers } from './accounts.ts';
import { pgRunner } from './apply.ts';
import type { LedgerContext } from './context.ts';

const system = { type: 'system' } as const;
let t: TestDatabase;
let ctx: LedgerContext;
let pool: ReturnType<typeof createPgPool>;

beforeAll(async () => {
  t = await useTestDatabase();
  pool = createPgPool(t.url, 2);
  ctx = { db: t.db, run: pgRunner(pool) };
});

afterAll(() => pool.end());

describe('naming a member', () => {
  it('by user id before another member whose external id looks the same, however old each membership is', async () => {
    const org = await createOrg(t.db, { slug: 'look-alike', name: 'Look-alike' }, system);
    const user = await t.db.user.create({ data: {} });
    // An older member whose external id is the other user's id, then that user joins.
    const older = await createUser(t.db, { externalId: user.id, org: { id: org.id, role: 'member' } }, system);
    const joined = await t.db.membership.create({ data: { orgId: org.id, userId: user.id, role: 'member' } });
    expect((await resolveMember(ctx, org.id, user.id)).membershipId).toBe(joined.id);
    expect((await resolveMember(ctx, org.id, older.user.id)).membershipId).not.toBe(joined.id);
    // Where no member has that user id, the external id names its member.
    const other = await createOrg(t.db, { slug: 'look-alike-2', name: 'Look-alike 2' }, system);
    const again = await createUser(t.db, { externalId: user.id, org: { id: other.id, role: 'member' } }, system);
    expect((await resolveMembers(ctx, other.id, [user.id])).get(user.id)?.userId).toBe(again.user.id);
  });
});
