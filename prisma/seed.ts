/**
 * Demo data for a fresh embedded database: the org "Acme AI" with its owner (the demo admin, whose generated
 * password is printed on first start and written to `<dataDir>/demo-admin.json`), a billing manager and two
 * members; then what the org did with credits, so that every page has something to show: credits granted to
 * the pool (one lot expiring), allocations, a transfer, a pool policy, and two weeks of LLM requests metered
 * by a backend's API key and priced from the catalog. Everything goes through the ledger and the metering API's own functions, so the
 * demo is as exact as any org. Runs once: a database that already holds an org is left alone.
 *
 *   tsx prisma/seed.ts     seeds the database of DATABASE_URL (or the embedded one) if it is empty
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Actor } from '../lib/auth/actor.ts';
import { createApiKey } from '../lib/auth/api-keys.ts';
import { createDb, type Db } from '../lib/db/client.ts';
import { createPgPool } from '../lib/db/pg.ts';
import { pgRunner } from '../lib/ledger/apply.ts';
import type { LedgerContext } from '../lib/ledger/context.ts';
import { allocateCredits, grantCredits, transferCredits } from '../lib/ledger/credits.ts';
import { recordUsageBatch } from '../lib/ledger/metering.ts';
import type { UsageEventInput } from '../lib/ledger/model-inputs.ts';
import { updateOrgPolicy } from '../lib/ledger/policies.ts';
import { parseCredits } from '../lib/money/credits.ts';
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

/** Who used what in the demo, per working day: requests of each model and their typical tokens. */
const DEMO_USAGE = [
  { user: 'user-ada', perDay: 24, models: [{ model: 'gpt-4o', share: 0.5, input: 3000, output: 700 }, { model: 'gpt-4o-mini', share: 0.5, input: 1500, output: 400 }] },
  { user: 'user-grace', perDay: 12, models: [{ model: 'gpt-4o-mini', share: 0.7, input: 2000, output: 500 }, { model: 'gpt-4o', share: 0.3, input: 4000, output: 900 }] },
  { user: 'admin', perDay: 4, models: [{ model: 'gpt-4o', share: 1, input: 2500, output: 600 }] },
];
const DEMO_DAYS = 14;

/** A small deterministic generator, so every demo shows the same history relative to its start. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** The metered requests of the last DEMO_DAYS days (fewer at weekends), oldest first; `admin`: the demo admin's user id. */
export function demoUsageEvents(now: Date, admin: string): UsageEventInput[] {
  const next = random(42);
  const events: UsageEventInput[] = [];
  for (let day = DEMO_DAYS; day >= 1; day--) {
    const date = new Date(now.getTime() - day * 86_400_000);
    const weekend = date.getUTCDay() === 0 || date.getUTCDay() === 6;
    for (const who of DEMO_USAGE) {
      const count = Math.round(who.perDay * (weekend ? 0.25 : 0.8 + 0.4 * next()));
      for (let i = 0; i < count; i++) {
        let pick = next();
        const m = who.models.find((candidate) => (pick -= candidate.share) < 0) ?? who.models[0];
        const scale = 0.5 + next();
        // Working hours, 08:00 to 18:00 UTC.
        const at = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), 8) + Math.floor(next() * 10 * 3_600_000));
        const failed = next() < 0.02;
        events.push({
          id: `demo-${who.user}-${day}-${i}`,
          user: who.user === 'admin' ? admin : who.user,
          model: m.model,
          // A request the upstream failed costs nothing.
          input_tokens: failed ? 0 : Math.round(m.input * scale),
          output_tokens: failed ? 0 : Math.round(m.output * scale),
          timestamp: at.toISOString(),
          latency_ms: Math.round(400 + next() * (failed ? 200 : 2600)),
          ...(failed && { status: 'error' as const }),
          metadata: { feature: next() < 0.6 ? 'assistant' : 'summaries' },
        });
      }
    }
  }
  return events.sort((a, b) => a.timestamp!.localeCompare(b.timestamp!));
}

/** What the demo org did with credits (see the module header); throws if any of it was refused. */
export async function seedDemoActivity(ctx: LedgerContext, orgId: string, now = new Date()): Promise<void> {
  const day = 86_400_000;
  const admin = (await ctx.db.user.findUniqueOrThrow({ where: { email: DEMO_ADMIN_EMAIL }, select: { id: true } })).id;
  await grantCredits(ctx, orgId, { amount: parseCredits('2000'), reason: 'Opening balance', source: 'adjustment' }, system);
  await grantCredits(
    ctx,
    orgId,
    { amount: parseCredits('500'), reason: 'Launch promotion', priority: 10, expires_at: new Date(now.getTime() + 45 * day).toISOString() },
    system,
  );
  await updateOrgPolicy(ctx, orgId, { pool_fallback: true, pool_daily_limit: parseCredits('5'), pool_monthly_limit: parseCredits('50') }, system);
  await allocateCredits(ctx, orgId, { user: 'user-ada', amount: parseCredits('600') }, system);
  await allocateCredits(ctx, orgId, { user: 'user-grace', amount: parseCredits('300') }, system);
  await allocateCredits(ctx, orgId, { user: admin, amount: parseCredits('150') }, system);
  await transferCredits(ctx, orgId, { from_user: 'user-grace', to_user: 'user-ada', amount: parseCredits('50'), reason: 'Shared for the launch week' }, system);
  // The LLM backend that reported the usage, with its own metering key (its secret is not kept: revoke it
  // and create one on the API keys page to meter for real).
  const { apiKey } = await createApiKey(ctx.db, { orgId, name: 'Demo backend', scopes: ['meter'], createdById: admin }, { type: 'user', userId: admin });
  const backend: Actor = { type: 'api_key', apiKeyId: apiKey.id };
  const events = demoUsageEvents(now, admin);
  for (let i = 0; i < events.length; i += 1000) {
    const results = await recordUsageBatch(ctx, orgId, events.slice(i, i + 1000), backend);
    const refused = results.find((r) => r.status === 'rejected');
    if (refused) throw new Error(`The demo usage event ${refused.id} was refused: ${JSON.stringify(refused)}`);
  }
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
    // The sign-in is kept first: should the activity fail, the demo admin can still sign in.
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
    const org = await db.org.findUniqueOrThrow({ where: { slug: DEMO_ORG.slug }, select: { id: true } });
    const pool = createPgPool(url, 2);
    try {
      await seedDemoActivity({ db, run: pgRunner(pool) }, org.id);
    } finally {
      await pool.end();
    }
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
