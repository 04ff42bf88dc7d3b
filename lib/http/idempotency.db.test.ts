import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/client.ts';
import { useTestDatabase } from '../test/db-harness.ts';
import { AppError } from './errors.ts';
import { withIdempotentEffect } from './idempotency.ts';

let db: Db;
let orgId: string;

beforeAll(async () => {
  db = (await useTestDatabase()).db;
  orgId = (await db.org.create({ data: { slug: 'acme', name: 'Acme' } })).id;
});

afterAll(async () => {
  await db.$disconnect();
});

const idem = (key: string, hash = 'h1') => ({ key: `api:${key}`, hash });

/** An effect with a visible result: an org named after `slug`. */
function createOrg(slug: string, runs: { count: number }) {
  return async (tx: Parameters<Parameters<typeof withIdempotentEffect>[3]>[0]) => {
    runs.count += 1;
    const org = await tx.org.create({ data: { slug, name: slug } });
    return { status: 201, body: { id: org.id, slug: org.slug, name: org.name, nested: { z: 1, a: [1, 'two'] } } };
  };
}

describe('withIdempotentEffect', () => {
  it('runs the effect in a transaction when there is no key', async () => {
    const runs = { count: 0 };
    const answer = await withIdempotentEffect(db, orgId, undefined, createOrg('no-key', runs));
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ slug: 'no-key' });
    expect(await db.idempotencyKey.count({ where: { orgId } })).toBe(0);
  });

  it('stores the answer with the effect and replays it without running the effect again', async () => {
    const runs = { count: 0 };
    const first = await withIdempotentEffect(db, orgId, idem('a'), createOrg('org-a', runs));
    const second = await withIdempotentEffect(db, orgId, idem('a'), createOrg('org-a', runs));
    expect(runs.count).toBe(1);
    expect(second).toEqual(first);
    expect(JSON.stringify(second.body)).toBe(JSON.stringify(first.body));
    const row = await db.idempotencyKey.findUniqueOrThrow({ where: { orgId_key: { orgId, key: 'api:a' } } });
    expect(row).toMatchObject({ status: 201, requestHash: 'h1', body: first.body });
    const ttl = row.expiresAt.getTime() - row.createdAt.getTime();
    expect(ttl).toBeGreaterThanOrEqual(24 * 3600_000 - 5_000);
  });

  it('answers 422 idempotency_mismatch for the key with another request', async () => {
    const runs = { count: 0 };
    await expect(withIdempotentEffect(db, orgId, idem('a', 'other'), createOrg('org-a2', runs))).rejects.toMatchObject({
      code: 'idempotency_mismatch',
    });
    expect(runs.count).toBe(0);
  });

  it('stores nothing when the effect fails, so a retry runs it', async () => {
    const failing = async () => {
      throw new AppError('conflict', 'No');
    };
    await expect(withIdempotentEffect(db, orgId, idem('b'), failing)).rejects.toMatchObject({ code: 'conflict' });
    expect(await db.idempotencyKey.count({ where: { orgId, key: 'api:b' } })).toBe(0);
    const runs = { count: 0 };
    const answer = await withIdempotentEffect(db, orgId, idem('b'), createOrg('org-b', runs));
    expect(runs.count).toBe(1);
    expect(answer.body).toMatchObject({ slug: 'org-b' });
  });

  it('runs the effect once for concurrent requests with one key', async () => {
    const runs = { count: 0 };
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => withIdempotentEffect(db, orgId, idem('c'), createOrg('org-c', runs))),
    );
    expect(runs.count).toBe(1);
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(await db.org.count({ where: { slug: 'org-c' } })).toBe(1);
  });

  it('rolls the effect back and answers the stored response when another writer stored the key first', async () => {
    const stored = { status: 201, body: { from: 'the other writer' } };
    const answer = await withIdempotentEffect(db, orgId, idem('d'), async (tx) => {
      const org = await tx.org.create({ data: { slug: 'org-d', name: 'D' } });
      // Committed on another connection while this transaction is open.
      await db.idempotencyKey.create({
        data: { orgId, key: 'api:d', requestHash: 'h1', ...stored, expiresAt: new Date(Date.now() + 86_400_000) },
      });
      return { status: 201, body: { id: org.id } };
    });
    expect(answer).toEqual(stored);
    expect(await db.org.count({ where: { slug: 'org-d' } })).toBe(0);
  });

  it('stores the replay body instead of a secret', async () => {
    const effect = async () => ({ status: 201, body: { id: 'k', secret: 'cr_live' }, replayBody: { id: 'k', secret: null } });
    const first = await withIdempotentEffect(db, orgId, idem('e'), effect);
    const second = await withIdempotentEffect(db, orgId, idem('e'), effect);
    expect(first.body).toEqual({ id: 'k', secret: 'cr_live' });
    expect(second.body).toEqual({ id: 'k', secret: null });
    const row = await db.idempotencyKey.findUniqueOrThrow({ where: { orgId_key: { orgId, key: 'api:e' } } });
    expect(JSON.stringify(row.body)).not.toContain('cr_live');
  });
});
