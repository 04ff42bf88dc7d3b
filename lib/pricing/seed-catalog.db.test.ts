import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/client.ts';
import { useTestDatabase } from '../test/db-harness.ts';
import { CATALOG_KEY } from './catalog-source.ts';
import { seedPriceCatalog } from './seed-catalog.ts';

let db: Db;
let url: string;

beforeAll(async () => {
  ({ db, url } = await useTestDatabase());
});

afterAll(async () => {
  await db.$disconnect();
});

describe('seedPriceCatalog', () => {
  it('seeds the catalog once, however many starts race', async () => {
    expect(await db.priceVersion.count()).toBe(0);
    await Promise.all([seedPriceCatalog(url), seedPriceCatalog(url)]);
    await seedPriceCatalog(url);
    const versions = await db.priceVersion.findMany({ include: { _count: { select: { prices: true } } } });
    expect(versions).toHaveLength(1);
    expect(versions[0].catalogKey).toBe(CATALOG_KEY);
    expect(versions[0]._count.prices).toBeGreaterThan(1000);
  });
});
