/**
 * Demo data for a fresh embedded database: the org "Acme AI" with its owner (the demo admin, whose generated
 * password is printed on first start and written to `<dataDir>/demo-admin.json`), a billing manager and two
 * members. Runs once: a database that already holds an org is left alone.
 *
 *   tsx prisma/seed.ts     seeds the database of DATABASE_URL (or the embedded one) if it is empty
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Actor } from '../lib/auth/actor.ts';
import { createDb, type Db } from '../lib/db/client.ts';
import { createOrg } from '../lib/orgs/orgs.ts';
import { createUser } from '../lib/users/create-user.ts';

export const DEMO_ORG = { slug: 'acme', name: 'Acme AI' };
export const DEMO_ADMIN_EMAIL = 'admin@acme.test';

export type DemoCredentials = { email: string; password: string; org: string };

const system: Actor = { type: 'system' };

function generatePassword(): string {
  return randomBytes(12).toString('base64url');
}

/** Creates the demo org and people; returns the demo admin's sign-in. */
export async function seedDemo(db: Db): Promise<DemoCredentials> {
  const password = generatePassword();
  const org = await createOrg(db, DEMO_ORG, system);
  await createUser(
    db,
    { email: DEMO_ADMIN_EMAIL, name: 'Avery Admin', password, org: { id: org.id, role: 'owner' } },
    system,
  );
  await createUser(
    db,
    { email: 'billing@acme.test', name: 'Blake Billing', password: generatePassword(), org: { id: org.id, role: 'billing' } },
    system,
  );
  await createUser(
    db,
    { email: 'ada@acme.test', name: 'Ada Lovelace', externalId: 'user-ada', password: generatePassword(), org: { id: org.id, role: 'member' } },
    system,
  );
  await createUser(
    db,
    { email: 'grace@acme.test', name: 'Grace Hopper', externalId: 'user-grace', password: generatePassword(), org: { id: org.id, role: 'member' } },
    system,
  );
  return { email: DEMO_ADMIN_EMAIL, password, org: org.slug };
}

/**
 * Seeds when the database holds no org yet. `created` tells whether this call seeded; the credentials file
 * keeps the demo admin's sign-in for later starts.
 */
export async function seedDemoOnce(
  url: string,
  dataDir: string,
): Promise<(DemoCredentials & { created: boolean; file: string }) | null> {
  const file = path.join(dataDir, 'demo-admin.json');
  const db = createDb(url, { poolSize: 2 });
  try {
    if ((await db.org.count()) > 0) {
      if (!existsSync(file)) return null;
      return { ...(JSON.parse(readFileSync(file, 'utf8')) as DemoCredentials), created: false, file };
    }
    const credentials = await seedDemo(db);
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
    return { ...credentials, created: true, file };
  } finally {
    await db.$disconnect();
  }
}

async function main() {
  const { openCliDatabase } = await import('../lib/db/cli-database.ts');
  const { url, close } = await openCliDatabase();
  try {
    const result = await seedDemoOnce(url, path.resolve(process.env.DATA_DIR ?? './.data'));
    console.log(result?.created ? `Seeded. Demo admin: ${result.email} / ${result.password}` : 'Already seeded');
  } finally {
    await close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
