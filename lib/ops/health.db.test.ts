import { beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../db/client.ts';
import { findFreePort } from '../db/embedded.ts';
import { useTestDatabase, type TestDatabase } from '../test/db-harness.ts';
import packageJson from '../../package.json' with { type: 'json' };
import { checkHealth } from './health.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await useTestDatabase();
});

describe('checkHealth', () => {
  it('reports ok with the version when the database answers', async () => {
    expect(await checkHealth(t.db)).toEqual({ status: 'ok', database: 'ok', version: packageJson.version });
  });

  it('reports the database unreachable, with a reason, when it is down', async () => {
    const port = await findFreePort();
    const down = createDb(`postgresql://nobody:x@127.0.0.1:${port}/none`);
    const health = await checkHealth(down, 1_500);
    expect(health.status).toBe('error');
    expect(health).toMatchObject({ database: 'unreachable', version: packageJson.version });
    expect(health.status === 'error' && health.reason.length).toBeGreaterThan(0);
  });
});
