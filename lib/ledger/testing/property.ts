/**
 * Runs a scenario of the ledger model (model.ts) against a real database through the ledger's domain
 * functions, and after every step checks that the database agrees with the model and with itself:
 * `ledger_check` finds nothing (before and after the expiry a balance read performs), every account's
 * balance, held and debt and every lot class's remainder equal the model's, no lot remainder is negative,
 * every reservation has the model's status and charge, and a request the model says has no effect (a failure,
 * a replay, a second resolution of a hold, a duplicate event) leaves every row exactly as it was.
 * Used by the property test and by scripts/ledger-property.ts; throws on the first disagreement.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { Actor } from '../../auth/actor.ts';
import { AppError } from '../../http/errors.ts';
import { formatCredits } from '../../money/credits.ts';
import type { Db } from '../../db/client.ts';
import type { SqlRunner } from '../apply.ts';
import type { LedgerContext } from '../context.ts';
import { allocateCredits, grantCredits, reclaimCredits, transferCredits } from '../credits.ts';
import { commitReservation, recordUsage, recordUsageBatch, releaseReservation, reserveCredits, type UsageResultDto } from '../metering.ts';
import { captureLease, openLease } from '../leases.ts';
import { checkLedger, getBalance } from '../queries.ts';
import { LedgerModel, lotKey, requestFingerprint, scenarioArbitrary, type Outcome, type Request, type Scenario } from './model.ts';

export type PropertyEnv = { db: Db; run: SqlRunner };

type RunOrg = { orgId: string; accounts: Map<string, string>; userIds: string[] };

const system: Actor = { type: 'system' };

/**
 * A fresh org with its members and policy, in three statements rather than through createOrg/createUser:
 * a property run makes thousands of them.
 */
async function createRunOrg(run: SqlRunner, scenario: Scenario): Promise<RunOrg> {
  const orgId = randomUUID();
  const userIds = Array.from({ length: scenario.users }, () => randomUUID());
  const membershipIds = userIds.map(() => randomUUID());
  await run(
    `WITH o AS (INSERT INTO orgs (id, slug, name, updated_at) VALUES ($1::uuid, $2, $2, now()) RETURNING id),
          u AS (INSERT INTO users (id, updated_at) SELECT unnest($3::uuid[]), now() RETURNING id)
     INSERT INTO memberships (id, org_id, user_id, role, updated_at)
     SELECT m, $1::uuid, u, 'member', now() FROM unnest($4::uuid[], $3::uuid[]) AS x(m, u)`,
    [orgId, `prop-${randomBytes(8).toString('hex')}`, userIds, membershipIds],
  );
  const rows = await run(
    `SELECT ledger_ensure_org_accounts($1::uuid) AS pool,
            ARRAY(SELECT ledger_user_account($1::uuid, m) FROM unnest($2::uuid[]) WITH ORDINALITY AS x(m, i) ORDER BY i)::text[] AS users`,
    [orgId, membershipIds],
  );
  await run(
    `UPDATE org_policies SET overdraft_limit = $2::bigint, pool_fallback = $3, pool_daily_limit = $4::bigint WHERE org_id = $1::uuid`,
    [orgId, scenario.policy.overdraft.toString(), scenario.policy.poolFallback, scenario.policy.poolDailyLimit?.toString() ?? null],
  );
  const accounts = new Map<string, string>([['pool', rows[0].pool as string]]);
  (rows[0].users as string[]).forEach((id, i) => accounts.set(`u${i}`, id));
  return { orgId, accounts, userIds };
}

type Snapshot = { accounts: string[]; lots: string[]; holds: Map<string, { status: string; charged: string | null }>; problems: string[] };

/**
 * Expires what is due on the org's accounts, the way a balance read does (see getBalance); returns how many
 * accounts it swept.
 */
async function sweepDue(ctx: LedgerContext, orgId: string): Promise<number> {
  const [row] = await ctx.run(
    `SELECT jsonb_array_length(ledger_apply($1::uuid,
              coalesce((SELECT jsonb_agg(jsonb_build_object('type', 'sweep', 'account_id', id))
                          FROM ledger_accounts WHERE org_id = $1::uuid AND sweep_at <= $2::timestamptz), '[]'::jsonb),
              $2::timestamptz)) AS swept`,
    [orgId, ctx.now!().toISOString()],
  );
  return Number(row.swept);
}

/** The org's ledger as text lines; `check` adds ledger_check's findings (skipped when just checked). */
async function snapshot(ctx: LedgerContext, org: RunOrg, check = true): Promise<Snapshot> {
  const [row] = await ctx.run(
    `SELECT
       (SELECT coalesce(json_agg(json_build_object('id', id, 'balance', balance::text, 'held', held::text, 'debt', debt::text)), '[]')
          FROM ledger_accounts WHERE org_id = $1::uuid AND kind IN ('pool', 'user')) AS accounts,
       (SELECT coalesce(json_agg(x), '[]') FROM (
          SELECT account_id, priority, (extract(epoch FROM expires_at) * 1000)::bigint::text AS expires,
                 (extract(epoch FROM created_at) * 1000)::bigint::text AS created, sum(remaining)::text AS remaining
            FROM credit_lots WHERE org_id = $1::uuid GROUP BY 1, 2, 3, 4 HAVING sum(remaining) > 0) x) AS lots,
       (SELECT min(remaining)::text FROM credit_lots WHERE org_id = $1::uuid) AS min_remaining,
       (SELECT coalesce(json_agg(json_build_object('id', id, 'status', status, 'charged', charged::text)), '[]')
          FROM reservations WHERE org_id = $1::uuid) AS holds,
       CASE WHEN $2 THEN (SELECT coalesce(json_agg(problem), '[]') FROM ledger_check($1::uuid)) ELSE '[]' END AS problems`,
    [org.orgId, check],
  );
  const names = new Map([...org.accounts].map(([name, id]) => [id, name]));
  if (row.min_remaining !== null && BigInt(row.min_remaining as string) < 0n) {
    throw new Error(`a lot remainder is below zero: ${row.min_remaining}`);
  }
  const accounts = (row.accounts as Array<Record<string, string>>)
    .map((a) => `${names.get(a.id)} balance=${a.balance} held=${a.held} debt=${a.debt}`)
    .sort();
  const lots = (row.lots as Array<Record<string, string | number | null>>)
    .map((l) => `${lotKey(names.get(l.account_id as string)!, Number(l.priority), l.expires === null ? null : Number(l.expires), Number(l.created))}=${l.remaining}`)
    .sort();
  const holds = new Map(
    (row.holds as Array<{ id: string; status: string; charged: string | null }>).map((h) => [h.id, { status: h.status, charged: h.charged }]),
  );
  return { accounts, lots, holds, problems: row.problems as string[] };
}

function expectedAccounts(model: LedgerModel): string[] {
  return model
    .accounts()
    .map((name) => {
      const v = model.view(name);
      return `${name} balance=${v.balance} held=${v.held} debt=${v.debt}`;
    })
    .sort();
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function usageAnswer(r: UsageResultDto): Record<string, unknown> {
  return r.status === 'rejected' ? { ok: false, code: r.error.code } : { ok: true, status: r.status, charged: r.charged };
}

/** Sends one request through the domain functions; an AppError becomes a failed outcome. */
async function send(ctx: LedgerContext, org: RunOrg, req: Request, holdIds: string[], chargeIds: (name: string) => string): Promise<Record<string, unknown>> {
  const user = (ref: 'pool' | number) => (ref === 'pool' ? undefined : org.userIds[ref]);
  const idem = 'key' in req && req.key !== null ? { key: req.key, hash: requestFingerprint(req) } : undefined;
  try {
    switch (req.kind) {
      case 'grant': {
        const input = { user: user(req.to), amount: req.amount, priority: req.priority, reason: 'Property test' };
        const expires = req.expiresAt === null ? {} : { expires_at: new Date(req.expiresAt).toISOString() };
        await grantCredits(ctx, org.orgId, { ...input, ...expires }, system, idem);
        return { ok: true };
      }
      case 'move':
        if (req.move === 'allocation') await allocateCredits(ctx, org.orgId, { user: user(req.to)!, amount: req.amount }, system, idem);
        else if (req.move === 'reclaim') await reclaimCredits(ctx, org.orgId, { user: user(req.from)!, amount: req.amount }, system, idem);
        else await transferCredits(ctx, org.orgId, { from_user: user(req.from), to_user: user(req.to), amount: req.amount }, system, idem);
        return { ok: true };
      case 'reserve': {
        const r = await reserveCredits(ctx, org.orgId, { user: org.userIds[req.user], amount: req.amount, ttl_seconds: req.ttl }, system, idem);
        return { ok: true, id: r.id, fundedBy: r.funded_by };
      }
      case 'commit': {
        const r = await commitReservation(ctx, org.orgId, holdIds[req.hold], { amount: req.amount }, system, idem);
        return { ok: true, charged: r.charged, released: r.released };
      }
      case 'release': {
        const r = await releaseReservation(ctx, org.orgId, holdIds[req.hold], system, idem);
        return { ok: true, released: r.released };
      }
      case 'lease': {
        const lease = await openLease(ctx, org.orgId, org.userIds[req.user], { id: randomUUID(), amount: req.amount, minAmount: req.min, ttlSeconds: req.ttl }, system);
        return { ok: true, id: lease.id, fundedBy: 'user', charged: formatCredits(lease.amount) };
      }
      case 'capture': {
        const captured = await captureLease(
          ctx,
          org.orgId,
          holdIds[req.hold],
          null,
          req.charges.map((c) => ({ id: chargeIds(c.id), amount: c.amount, ...(c.fromHold !== null && { fromHold: c.fromHold }), facts: {} })),
          system,
        );
        return { ok: true, events: captured.charges.map((o) => (o.ok ? { ok: true, status: o.status, charged: formatCredits(o.charged) } : { ok: false, code: o.error.code })) };
      }
      case 'usage':
        return usageAnswer(await recordUsage(ctx, org.orgId, { id: req.event, user: org.userIds[req.user], amount: req.amount }, system));
      case 'usageBatch': {
        const events = req.events.map((e) => ({ id: e.event, user: org.userIds[e.user], amount: e.amount }));
        return { ok: true, events: (await recordUsageBatch(ctx, org.orgId, events, system, idem)).map(usageAnswer) };
      }
      case 'advance':
        return { ok: true };
    }
  } catch (err) {
    if (err instanceof AppError) return { ok: false, code: err.code };
    throw err;
  }
}

/** What the domain functions must have answered, in their terms. */
function expectedAnswer(req: Request, outcome: Outcome, holdIds: string[]): Record<string, unknown> {
  if (!outcome.ok) return { ok: false, code: outcome.code };
  switch (req.kind) {
    case 'reserve':
      return { ok: true, id: holdIds[outcome.hold!] ?? '(new)', fundedBy: outcome.fundedBy };
    case 'commit':
      return { ok: true, charged: formatCredits(outcome.charged!), released: formatCredits(outcome.released!) };
    case 'release':
      return { ok: true, released: formatCredits(outcome.released!) };
    case 'lease':
      return { ok: true, id: holdIds[outcome.hold!] ?? '(new)', fundedBy: 'user', charged: formatCredits(outcome.charged!) };
    case 'capture':
      return { ok: true, events: outcome.events!.map((o) => (o.ok ? { ok: true, status: o.status, charged: formatCredits(o.charged!) } : { ok: false, code: o.code })) };
    case 'usage':
      return { ok: true, status: outcome.status, charged: formatCredits(outcome.charged!) };
    case 'usageBatch':
      return { ok: true, events: outcome.events!.map((o) => expectedAnswer({ kind: 'usage', user: 0, event: '', amount: 0n }, o, holdIds)) };
    default:
      return { ok: true };
  }
}

const show = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x));

/** Runs one scenario on a fresh org; throws an Error naming the step and the disagreement. */
export async function runScenario(env: PropertyEnv, scenario: Scenario): Promise<void> {
  const model = new LedgerModel(scenario.users, scenario.start, scenario.policy);
  const ctx: LedgerContext = { db: env.db, run: env.run, now: () => new Date(model.now) };
  const org = await createRunOrg(env.run, scenario);
  const holdIds: string[] = [];
  // The model names captured requests c0, c1, ...; the ledger takes them by the id of their usage record.
  const charges = new Map<string, string>();
  const chargeId = (name: string) => charges.get(name) ?? (charges.set(name, randomUUID()), charges.get(name)!);
  let previous = await snapshot(ctx, org);
  const log: string[] = [];

  for (const [i, step] of scenario.steps.entries()) {
    const req = model.resolve(step);
    if (!req) continue;
    log.push(show(req));
    const where = () => `step ${i} of ${scenario.users} members, policy ${show(scenario.policy)}:\n  ${log.join('\n  ')}`;

    const answer = await send(ctx, org, req, holdIds, chargeId);
    const { outcome, effect } = model.apply(req);
    const expected = expectedAnswer(req, outcome, holdIds);
    if ((req.kind === 'reserve' || req.kind === 'lease') && outcome.ok && holdIds[outcome.hold!] === undefined) {
      holdIds[outcome.hold!] = answer.id as string;
      expected.id = answer.id;
    }
    if (show(answer) !== show(expected)) throw new Error(`${where()}\nanswered ${show(answer)}, expected ${show(expected)}`);

    const problems = await checkLedger(ctx, org.orgId);
    if (problems.length > 0) throw new Error(`${where()}\nledger_check: ${problems.join('; ')}`);
    const swept = await sweepDue(ctx, org.orgId);
    const now = await snapshot(ctx, org, swept > 0);
    if (now.problems.length > 0) throw new Error(`${where()}\nledger_check after expiry: ${now.problems.join('; ')}`);
    if (!effect && (!sameList(now.accounts, previous.accounts) || !sameList(now.lots, previous.lots))) {
      throw new Error(`${where()}\na request without effect changed the ledger:\n  before ${previous.accounts.join(', ')}\n  after  ${now.accounts.join(', ')}`);
    }
    const accounts = expectedAccounts(model);
    if (!sameList(now.accounts, accounts)) {
      throw new Error(`${where()}\naccounts ${now.accounts.join(', ')}\nexpected ${accounts.join(', ')}`);
    }
    const lots = model.lotLines();
    if (!sameList(now.lots, lots)) throw new Error(`${where()}\nlots ${now.lots.join(', ')}\nexpected ${lots.join(', ')}`);
    for (const [h, hold] of model.holds.entries()) {
      const stored = now.holds.get(holdIds[h]);
      const charged = hold.charged === null ? null : hold.charged.toString();
      if (!stored || stored.status !== hold.status || stored.charged !== charged) {
        throw new Error(`${where()}\nreservation ${h} is ${show(stored)}, expected ${hold.status} charged ${charged}`);
      }
    }
    if (now.holds.size !== model.holds.length) throw new Error(`${where()}\n${now.holds.size} reservations, expected ${model.holds.length}`);
    previous = now;
  }

  // What a customer reads at the end: the public balance of the pool and of every member.
  for (const name of model.accounts()) {
    const userRef = name === 'pool' ? undefined : org.userIds[Number(name.slice(1))];
    const read = await getBalance(ctx, org.orgId, userRef);
    const v = model.view(name);
    const want = { available: formatCredits(v.balance - v.held), reserved: formatCredits(v.held), debt: formatCredits(v.debt) };
    const got = { available: read.available, reserved: read.reserved, debt: read.debt };
    if (show(got) !== show(want)) throw new Error(`balance of ${name}: ${show(got)}, expected ${show(want)}`);
  }
}

export type PropertyOptions = {
  numRuns: number;
  seed?: number;
  maxSteps?: number;
  /** Called after every scenario run (shrinking included) with the number run so far. */
  onRun?: (runs: number) => void;
};

/** The property over `numRuns` random scenarios; resolves, or rejects with fast-check's counterexample report. */
export async function assertLedgerProperty(env: PropertyEnv, options: PropertyOptions): Promise<void> {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(scenarioArbitrary({ maxSteps: options.maxSteps }), async (scenario) => {
      try {
        await runScenario(env, scenario);
      } finally {
        options.onRun?.(++runs);
      }
    }),
    { numRuns: options.numRuns, ...(options.seed !== undefined && { seed: options.seed }) },
  );
}
