/**
 * Seeds the global price catalog at start-up, right after the migrations, so the first metered request does
 * not pay for it (lookups would seed it lazily otherwise). Idempotent: one version per catalog release.
 */
import { createDb } from '../db/client.ts';
import { ensureGlobalCatalog } from './catalog.ts';

export async function seedPriceCatalog(url: string): Promise<void> {
  const db = createDb(url, { poolSize: 2 });
  try {
    await ensureGlobalCatalog(db);
  } finally {
    await db.$disconnect();
  }
}
