import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/client.ts';
import { createTestOrg, type TestOrg } from '../test/api-fixture.ts';
import { useTestDatabase } from '../test/db-harness.ts';
import { defaultProxySettings, getOrgProxySettings, listKeyLimits, loadProxySettings, rememberedProxySettings, saveKeyLimits, saveProxySettings } from './settings.ts';

let db: Db;
let org: TestOrg;
let other: TestOrg;
let meterKeyId: string;
const system = { type: 'system' } as const;

beforeAll(async () => {
  db = (await useTestDatabase()).db;
  org = await createTestOrg(db, 'settings');
  other = await createTestOrg(db, 'settings-other');
  meterKeyId = (await db.apiKey.findFirstOrThrow({ where: { orgId: org.id, name: 'meter' } })).id;
});
afterAll(() => db.$disconnect());

describe('proxy settings', () => {
  it('gives the defaults to an org without settings', async () => {
    expect(await loadProxySettings(db, org.id, meterKeyId)).toEqual(defaultProxySettings);
    expect(await getOrgProxySettings(db, org.id)).toEqual(defaultProxySettings);
  });

  it('stores limits (null unlimited), the degradation policy and the fail-open cap', async () => {
    await saveProxySettings(
      db,
      org.id,
      { keyRequestsPerMinute: 100, keyTokensPerMinute: null, keyConcurrentRequests: 3, userRequestsPerMinute: 10, userTokensPerMinute: 5000, userConcurrentRequests: null, degradation: 'fail_open', failOpenUserCap: '2.5' },
      system,
    );
    expect(await loadProxySettings(db, org.id, meterKeyId)).toEqual({
      limits: { keyRequestsPerMinute: 100, keyTokensPerMinute: null, keyConcurrentRequests: 3, userRequestsPerMinute: 10, userTokensPerMinute: 5000, userConcurrentRequests: null },
      degradation: 'fail_open',
      failOpenUserCap: 2_500_000n,
    });
    expect((await getOrgProxySettings(db, org.id)).degradation).toBe('fail_open');
    await expect(saveProxySettings(db, org.id, { ...defaultProxySettings.limits, failOpenUserCap: 'lots', degradation: 'fail_open' }, system)).rejects.toMatchObject({ details: { field: 'failOpenUserCap' } });
    await expect(saveProxySettings(db, org.id, { ...defaultProxySettings.limits, keyRequestsPerMinute: 0, degradation: 'fail_open', failOpenUserCap: '1' }, system)).rejects.toMatchObject({ code: 'validation_failed', details: { field: 'keyRequestsPerMinute' } });
  });

  it('lets one key replace the key limits, only for a key of the org', async () => {
    await saveKeyLimits(db, org.id, meterKeyId, { requestsPerMinute: 7, tokensPerMinute: 70, concurrentRequests: null }, system);
    const settings = await loadProxySettings(db, org.id, meterKeyId);
    expect(settings.limits).toMatchObject({ keyRequestsPerMinute: 7, keyTokensPerMinute: 70, keyConcurrentRequests: null, userRequestsPerMinute: 10 });
    expect(await listKeyLimits(db, org.id)).toEqual([expect.objectContaining({ apiKeyId: meterKeyId, requestsPerMinute: 7, tokensPerMinute: 70, concurrentRequests: null })]);
    expect(await listKeyLimits(db, other.id)).toEqual([]);
    await expect(saveKeyLimits(db, other.id, meterKeyId, null, system)).rejects.toMatchObject({ code: 'not_found' });
    await saveKeyLimits(db, org.id, meterKeyId, null, system);
    expect((await loadProxySettings(db, org.id, meterKeyId)).limits.keyRequestsPerMinute).toBe(100);
  });

  it('keeps the last settings read when the database cannot be reached', async () => {
    const fresh = await rememberedProxySettings(db, other.id, meterKeyId);
    expect(fresh.stale).toBe(false);
    const broken = { proxySettings: { findUnique: () => Promise.reject(new Error('connection refused')) }, proxyKeyLimits: { findUnique: () => Promise.reject(new Error('connection refused')) } } as unknown as Db;
    expect(await rememberedProxySettings(broken, other.id, meterKeyId, 0)).toEqual({ settings: fresh.settings, stale: true });
    await expect(rememberedProxySettings(broken, org.id, 'never-read', 0)).rejects.toThrow(/connection refused/);
  });
});
