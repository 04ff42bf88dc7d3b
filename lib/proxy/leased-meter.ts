/**
 * The proxy's production meter: the priced meter's prices and records, with holds taken from leases
 * (ledger/leases.ts) so that a proxied request needs no round trip to the database before it is forwarded.
 *
 * Per org member, the process takes a lease sized for a number of requests like the one that opens it (never
 * more than half of what the member has available beyond that request), and answers each request's hold from
 * it in memory: the request's estimate, priced exactly as a hold of its own, is set aside from what the lease
 * has free. No request is ever answered from credits the lease does not hold, so nothing is promised twice,
 * across processes too: what a lease holds is held in the ledger. Settling returns what the request did not
 * use to the lease and owes its charge; the charges a lease owes are captured together within a fifth of a
 * second, each with its receipt and usage record (the same as a commit of its own hold). Until then the lease
 * still holds what they charge, so what the member has available is the same either way; waiting lets one
 * capture charge several requests (at 500 requests/s over 50 members, PostgreSQL spent 1.0 ms of CPU per
 * request capturing after 10 ms, 0.6 ms after 200 ms, 0.4 ms after a second; but after a second the proxy
 * added about 2.3 ms p50 at 100 requests/s against 1.8 ms). A charge above the request's estimate takes the
 * difference from what the lease has free, or, beyond that, is captured at once from the member's available
 * credits and may be refused, as a commit above its hold would be.
 *
 * A lease takes no new requests once it is older than maxAgeMs, or too small for the next request, and is
 * released once its requests are charged; an idle one after idleMs. The next lease is opened ahead of need,
 * when the current one has less than a quarter left or is near its age, so requests rarely wait for one. While
 * the database cannot be reached, captures are retried (backing off up to 30 s) and the lease stays held: it
 * is never released with charges owed. Leases are journaled in the settlement journal folder while held: the
 * requests answered from a lease are journaled by the proxy before their answer (with the lease named), so
 * when a process stops without releasing, reconcile charges what it owed and then releases its leases
 * (settlement-reconcile.ts); and a lease expires like any hold in the end.
 *
 * A member without credits of their own (funded by the org pool, or refused) is held per request by the
 * priced meter, as before: pool draws have their own daily and monthly limits per hold.
 */
import { randomUUID } from 'node:crypto';
import type { Actor } from '../auth/actor.ts';
import { AppError, isAppError, validationError, type ErrorCode } from '../http/errors.ts';
import { logger } from '../http/logger.ts';
import { parseCredits } from '../money/credits.ts';
import type { LedgerContext } from '../ledger/context.ts';
import { captureLease, openLease, type Capture, type LeaseCharge } from '../ledger/leases.ts';
import { pricedUsageFacts, recordUsage, releaseReservation, reserveInputSchema } from '../ledger/metering.ts';
import { estimatedHold, pricedUsage, requestFacts } from '../ledger/model-inputs.ts';
import type { UsageFacts } from '../usage/carrier.ts';
import { endedRequestFacts, type MeteredUsage, type MeterHold, type MeterInfo, type MeterQuote, type MeterRequest, type MeterSettlement, type ProxyMeter } from './meter.ts';
import { actor, chargeOf, commitUsageOf, estimateOf, pricedMeter, PROXY_HOLD_TTL_SECONDS, quotedTerms, quoteTerms, type Terms } from './priced-meter.ts';
import { SettlementJournal, type JournalTicket } from './settlement-journal.ts';

export type LeaseOptions = {
  /** A lease is sized for this many requests like the one that opens it. */
  requestsPerLease: number;
  /** Charges owed wait at most this long to be captured together (the lease holds them meanwhile)... */
  captureDelayMs: number;
  /** ...and are captured at once when this many are waiting. */
  captureBatch: number;
  /** A lease no request used for this long is released. */
  idleMs: number;
  /**
   * A lease older than this (give or take a fifth, so that leases opened together do not end together) takes
   * no new requests, and is released once its requests are charged.
   */
  maxAgeMs: number;
  /**
   * Captures failing other than by a refusal are retried until they get through; after this many attempts their
   * requests stop waiting for them.
   */
  captureAttempts: number;
  /** The settlement journal folder, where held leases are journaled (null: not journaled; tests). */
  journalDir: string | null;
};

export const defaultLeaseOptions: Omit<LeaseOptions, 'journalDir'> = {
  requestsPerLease: 64,
  captureDelayMs: 200,
  captureBatch: 200,
  idleMs: 30_000,
  maxAgeMs: 60_000,
  captureAttempts: 5,
};

/** The key of a member's leases: the org and the user as the requests name them. */
const memberKey = (orgId: string, user: string) => `${orgId}\u0000${user}`;

/** After a member could not open a lease (no credits of their own), their requests are held one by one this long. */
const NO_LEASE_MS = 1_000;

type Owed = { charge: LeaseCharge; resolve(settled: MeterSettlement): void; reject(err: unknown): void };

type Lease = {
  key: string;
  orgId: string;
  id: string;
  accountId: string;
  /** What it held when opened. */
  size: bigint;
  maxAgeMs: number;
  /** Held by the lease and promised to no request. */
  free: bigint;
  /** What the member had available outside the lease, as the last capture saw it. */
  available: bigint;
  outstanding: number;
  owed: Owed[];
  capturing: boolean;
  failures: number;
  timer: NodeJS.Timeout | null;
  openedAt: number;
  usedAt: number;
  retired: boolean;
  released: boolean;
  ticket: JournalTicket | null;
};

/** A request's part of a lease. */
type Part = { lease: Lease; amount: bigint; terms: Terms; model: string; provider: string | undefined };

const system: Actor = { type: 'system' };

export function leasedMeter(ctx: LedgerContext, options: Partial<LeaseOptions> = {}): ProxyMeter {
  const o = { ...defaultLeaseOptions, journalDir: null, ...options };
  const base = pricedMeter(ctx);
  const journal = o.journalDir ? new SettlementJournal(o.journalDir) : null;
  const current = new Map<string, Lease>();
  const opening = new Map<string, Promise<Lease | null>>();
  const noLeaseUntil = new Map<string, number>();
  const live = new Set<Lease>();
  /** The live leases of each member (the current one, and older ones finishing their requests). */
  const leasesOf = new Map<string, Set<Lease>>();
  const parts = new Map<string, Part>();
  const lastTerms = new Map<string, Terms>();
  let closed = false;
  /** How long a capture that could not reach the database waits before its next attempt: doubling, at most 30 s. */
  const retryDelayMs = (failures: number) => Math.min(30_000, Math.max(o.captureDelayMs, 1) * 2 ** failures);

  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const lease of current.values()) {
      if (now - lease.openedAt > lease.maxAgeMs || (lease.outstanding === 0 && now - lease.usedAt > o.idleMs)) retire(lease);
    }
    for (const [key, until] of noLeaseUntil) if (until <= now) noLeaseUntil.delete(key);
  }, Math.max(50, Math.min(o.idleMs, o.maxAgeMs) / 4));
  sweeper.unref?.();

  function retire(lease: Lease): void {
    lease.retired = true;
    if (current.get(lease.key) === lease) current.delete(lease.key);
    maybeRelease(lease);
  }

  function maybeRelease(lease: Lease): void {
    if (!lease.retired || lease.released || lease.outstanding > 0 || lease.owed.length > 0 || lease.capturing) return;
    lease.released = true;
    if (lease.timer) clearTimeout(lease.timer);
    releaseReservation(ctx, lease.orgId, lease.id, system).then(
      () => lease.ticket?.resolve(true),
      (err: unknown) => {
        // Gone already (expired, released) is fine; otherwise reconcile releases it, or it expires.
        const gone = isAppError(err);
        if (!gone) logger.error({ err, event: 'proxy.lease_release_failed', leaseId: lease.id }, 'could not release a lease');
        lease.ticket?.resolve(gone);
      },
    ).finally(() => {
      live.delete(lease);
      const mine = leasesOf.get(lease.key);
      mine?.delete(lease);
      if (mine?.size === 0) leasesOf.delete(lease.key);
    });
  }

  async function open(key: string, orgId: string, user: string, amount: bigint, info: MeterInfo): Promise<Lease | null> {
    const id = randomUUID();
    // Journaled before it exists: a process that stops right after taking it still has it released.
    const ticket = journal ? journal.append({ kind: 'lease', at: new Date().toISOString(), orgId, leaseId: id }) : null;
    try {
      const opened = await openLease(
        ctx,
        orgId,
        user,
        { id, amount: amount * BigInt(o.requestsPerLease), minAmount: amount, ttlSeconds: PROXY_HOLD_TTL_SECONDS },
        actor(info),
      );
      const now = Date.now();
      const lease: Lease = {
        key,
        orgId,
        id,
        accountId: opened.member.accountId,
        size: opened.amount,
        maxAgeMs: o.maxAgeMs * (0.8 + 0.4 * Math.random()),
        free: opened.amount,
        available: opened.available,
        outstanding: 0,
        owed: [],
        capturing: false,
        failures: 0,
        timer: null,
        openedAt: now,
        usedAt: now,
        retired: false,
        released: false,
        ticket,
      };
      live.add(lease);
      leasesOf.set(key, (leasesOf.get(key) ?? new Set<Lease>()).add(lease));
      // A lease opened ahead of need takes over from the one before, which finishes the requests it has.
      const before = current.get(key);
      current.set(key, lease);
      if (before && before !== lease) retire(before);
      return lease;
    } catch (err) {
      // Refused: there is no lease. Any other failure may have left one (the answer lost on the way): its line
      // stays for reconcile to release.
      ticket?.resolve(isAppError(err));
      if (isAppError(err) && err.code === 'insufficient_credits') {
        noLeaseUntil.set(key, Date.now() + NO_LEASE_MS);
        return null;
      }
      throw err;
    }
  }

  /** Opens the member's next lease, one at a time per member. */
  function openNext(key: string, orgId: string, user: string, amount: bigint, info: MeterInfo): Promise<Lease | null> {
    let pending = opening.get(key);
    if (!pending) {
      pending = open(key, orgId, user, amount, info).finally(() => opening.delete(key));
      opening.set(key, pending);
    }
    return pending;
  }

  /**
   * What the member has available as a request of `lease` sees it: what they had outside their leases at the
   * lease's last capture, and what all their leases hold free.
   */
  function remainingOf(lease: Lease): bigint {
    let free = 0n;
    for (const l of leasesOf.get(lease.key) ?? []) if (!l.released) free += l.free;
    return lease.available + free;
  }

  /** Sets `amount` aside from `lease` for a request: checked and taken in one synchronous step. */
  function take(lease: Lease, amount: bigint): Lease {
    lease.free -= amount;
    lease.outstanding += 1;
    lease.usedAt = Date.now();
    return lease;
  }

  /**
   * Sets `amount` aside for a request from the member's current lease, opening one when needed; null: hold
   * per request. The check that a lease has `amount` free and the taking of it happen with no await between
   * them, so concurrent requests never take the same credits.
   */
  async function takeFromLease(orgId: string, user: string, amount: bigint, info: MeterInfo): Promise<Lease | null> {
    const key = memberKey(orgId, user);
    for (let attempt = 0; attempt < 3; attempt++) {
      const lease = current.get(key);
      if (lease && lease.free >= amount) {
        // Running low, or old: the next lease is opened now, so that no request waits for it.
        const low = lease.free - amount < lease.size / 4n || Date.now() - lease.openedAt > lease.maxAgeMs * 0.8;
        if (low && !opening.has(key) && (noLeaseUntil.get(key) ?? 0) <= Date.now()) {
          openNext(key, orgId, user, amount, info).catch((err: unknown) => logger.warn({ err, event: 'proxy.lease_open_failed' }, 'could not open a lease ahead of need'));
        }
        return take(lease, amount);
      }
      if (lease) retire(lease);
      if ((noLeaseUntil.get(key) ?? 0) > Date.now()) return null;
      const opened = await openNext(key, orgId, user, amount, info);
      if (!opened) return null;
      if (!opened.retired && opened.free >= amount) return take(opened, amount);
    }
    return null;
  }

  function schedule(lease: Lease, delayMs: number): void {
    if (lease.capturing) return;
    if (lease.timer) {
      if (delayMs > 0) return;
      clearTimeout(lease.timer);
    }
    lease.timer = setTimeout(() => {
      lease.timer = null;
      void capture(lease);
    }, delayMs);
  }

  async function capture(lease: Lease): Promise<void> {
    if (lease.capturing || lease.owed.length === 0) return maybeRelease(lease);
    lease.capturing = true;
    let batch = lease.owed.splice(0, o.captureBatch);
    try {
      const captured = await captureLease(ctx, lease.orgId, lease.id, lease.accountId, batch.map((b) => b.charge), system);
      lease.failures = 0;
      lease.available = captured.available;
      captured.charges.forEach((outcome, i) => {
        const owed = batch[i];
        if (outcome.ok) {
          owed.resolve({ charged: outcome.charged, remaining: remainingOf(lease) });
        } else {
          // Refused: nothing was taken, so what it was to take from the lease is free again.
          if (owed.charge.fromHold !== undefined) lease.free += owed.charge.fromHold;
          owed.reject(outcome.error);
        }
      });
    } catch (err) {
      if (isAppError(err)) {
        // The lease cannot be captured any more (it expired, say): its requests are refused, and it is done.
        for (const owed of batch) owed.reject(err);
        lease.owed.splice(0).forEach((owed) => owed.reject(err));
        retire(lease);
      } else {
        // The database cannot be reached. The charges stay owed, and the lease held, until a capture gets
        // through: releasing the lease would give back credits these requests spent. After a few attempts
        // their requests stop waiting (their journal lines stay, for reconcile should this process stop).
        if (++lease.failures === o.captureAttempts) {
          logger.error({ err, event: 'proxy.capture_failed', leaseId: lease.id, charges: batch.length }, 'could not capture charges of a lease; retrying');
          for (const owed of batch) owed.reject(err);
          batch = batch.map((owed) => ({ ...owed, resolve: () => {}, reject: () => {} }));
        }
        lease.owed.unshift(...batch);
      }
    } finally {
      lease.capturing = false;
      // (Once the meter is closed, captures that cannot reach the database are left to reconcile.)
      if (lease.owed.length === 0) maybeRelease(lease);
      else if (!(closed && lease.failures > 0)) {
        schedule(lease, lease.failures > 0 ? retryDelayMs(lease.failures) : lease.owed.length >= o.captureBatch ? 0 : o.captureDelayMs);
      }
    }
  }

  function owe(lease: Lease, charge: LeaseCharge, now: boolean): Promise<MeterSettlement> {
    return new Promise((resolve, reject) => {
      lease.owed.push({ charge, resolve, reject });
      schedule(lease, now || lease.owed.length >= o.captureBatch ? 0 : o.captureDelayMs);
    });
  }

  /**
   * Gives what the member's leases hold for no request back to the member; true when there was some. (A lease
   * too small for the member's next request can be left with credits while requests it answered still run.)
   */
  async function giveBackFree(orgId: string, user: string): Promise<boolean> {
    const key = memberKey(orgId, user);
    const spare = [...(leasesOf.get(key) ?? [])].filter((lease) => !lease.released && lease.free > 0n);
    const given = await Promise.all(
      spare.map(async (lease) => {
        const amount = lease.free;
        lease.free = 0n;
        try {
          await captureLease(ctx, lease.orgId, lease.id, lease.accountId, [], system, amount);
          return true;
        } catch (err) {
          lease.free += amount;
          logger.warn({ err, event: 'proxy.lease_give_back_failed', leaseId: lease.id }, 'could not give back what a lease held for no request');
          return false;
        } finally {
          maybeRelease(lease);
        }
      }),
    );
    return given.includes(true);
  }

  /**
   * Holds a request on its own (the priced meter). Refused for want of credits while the member's leases hold
   * some for no request, those go back to the member and the hold is tried once more.
   */
  async function holdAlone(orgId: string, user: string, request: MeterRequest, info: MeterInfo): Promise<MeterHold> {
    try {
      return await base.hold(orgId, user, request, info);
    } catch (err) {
      if (!(isAppError(err) && err.code === 'insufficient_credits') || !(await giveBackFree(orgId, user))) throw err;
      return base.hold(orgId, user, request, info);
    }
  }

  /**
   * Charges a request answered from a lease that ended before the request was captured (it expired while its
   * process was down, say): as a usage event of the lease's member, whose id is the charge's, so it is charged
   * once however often reconcile runs; within what the member has, like any event. (A charge captured before
   * is answered as a duplicate by the capture itself, so it never gets here.)
   */
  async function chargeWithoutLease(orgId: string, leaseId: string, chargeId: string, priced: { amount: bigint; facts: UsageFacts }, info: MeterInfo, ended: unknown): Promise<MeterSettlement> {
    const lease = await ctx.db.reservation.findFirst({ where: { id: leaseId, orgId }, select: { membershipId: true } });
    const member = lease?.membershipId ? await ctx.db.membership.findUnique({ where: { id: lease.membershipId }, select: { userId: true } }) : null;
    if (!member) throw ended;
    const charged = await recordUsage(
      ctx,
      orgId,
      { id: `lease-charge:${chargeId}`, user: member.userId, amount: priced.amount, metadata: { endpoint: info.endpoint, lease_id: leaseId } },
      actor(info),
      undefined,
      endedRequestFacts(info, 'ok'),
      priced.facts,
    );
    if (charged.status === 'rejected') throw new AppError(charged.error.code as ErrorCode, charged.error.message);
    return { charged: parseCredits(charged.charged), remaining: charged.balance ? parseCredits(charged.balance.available) : 0n };
  }

  /** What a request's usage record says beyond its usage, as the priced meter's commits and releases say it. */
  const factsOf = (info: MeterInfo, status: 'ok' | 'error'): UsageFacts => requestFacts(actor(info), endedRequestFacts(info, status));

  return {
    async hold(orgId, user, request, info): Promise<MeterHold> {
      const input = reserveInputSchema.safeParse({ user, model: request.model, estimate: estimateOf(request), ttl_seconds: PROXY_HOLD_TTL_SECONDS });
      if (!input.success) throw validationError('The request cannot be metered', input.error);
      // The hold's estimate and the request's quote are priced by the same terms, looked up once.
      const estimate = await estimatedHold(ctx, orgId, { model: input.data.model!, provider: input.data.provider, estimate: input.data.estimate! });
      const { terms } = estimate;
      lastTerms.set(`${orgId}:${request.model}`, terms);
      const amount = estimate.amount;
      const lease = await takeFromLease(orgId, user, amount, info);
      if (!lease) return holdAlone(orgId, user, request, info);
      const id = randomUUID();
      parts.set(id, { lease, amount, terms, model: request.model, provider: estimate.facts.provider });
      return {
        reservationId: id,
        leaseId: lease.id,
        amount,
        remaining: remainingOf(lease),
        quote(usage): MeterQuote | null {
          const charged = chargeOf(terms, usage);
          if (charged === null) return null;
          return { charged, remaining: remainingOf(lease) + amount - charged, terms: quoteTerms(terms) };
        },
      };
    },

    async settle(orgId, reservationId, usage, info, quote) {
      const part = parts.get(reservationId);
      if (!part) return base.settle(orgId, reservationId, usage, info, quote);
      parts.delete(reservationId);
      const { lease } = part;
      lease.outstanding -= 1;
      let input: ReturnType<typeof commitUsageOf>;
      let charged: bigint | null;
      try {
        input = commitUsageOf(usage);
        charged = quote?.charged ?? chargeOf(part.terms, usage);
        if (charged === null) throw new AppError('validation_failed', 'The request cannot be metered');
      } catch (err) {
        // Nothing can be charged: what the request set aside goes back to the lease.
        lease.free += part.amount;
        maybeRelease(lease);
        throw err;
      }
      let fromHold: bigint | undefined;
      if (charged <= part.amount) lease.free += part.amount - charged;
      else if (lease.free >= charged - part.amount) lease.free -= charged - part.amount;
      else {
        // Beyond what the lease can spare: the rest comes from the member's available credits, or is refused.
        fromHold = part.amount + lease.free;
        lease.free = 0n;
      }
      const terms = quote ? quotedTerms(quote.terms) : quoteTerms(part.terms);
      return owe(
        lease,
        {
          id: reservationId,
          amount: charged,
          fromHold,
          facts: { ...factsOf(info, 'ok'), ...pricedUsageFacts(input.usage!, terms) },
          metadata: { endpoint: info.endpoint },
          actor: actor(info),
        },
        fromHold !== undefined,
      );
    },

    async cancel(orgId, reservationId, info, outcome = 'failed') {
      const part = parts.get(reservationId);
      if (!part) return base.cancel(orgId, reservationId, info, outcome);
      parts.delete(reservationId);
      const { lease } = part;
      lease.outstanding -= 1;
      lease.free += part.amount;
      if (outcome === 'refused') return maybeRelease(lease);
      // The failed request's usage record, with the others' charges.
      owe(lease, { id: reservationId, amount: 0n, facts: { ...factsOf(info, 'error'), model: part.model, provider: part.provider }, metadata: { endpoint: info.endpoint }, actor: actor(info) }, false).catch(
        (err: unknown) => logger.error({ err, event: 'proxy.cancel_failed', reservationId }, 'could not record a failed request'),
      );
    },

    priceOffline(orgId, usage) {
      const terms = lastTerms.get(`${orgId}:${usage.model}`);
      return terms ? chargeOf(terms, usage) : base.priceOffline!(orgId, usage);
    },

    async settleLeased(orgId, leaseId, chargeId, usage, info, quote) {
      const input = commitUsageOf(usage);
      const priced = quote
        ? { amount: quote.charged, facts: pricedUsageFacts(input.usage!, quotedTerms(quote.terms)) }
        : await pricedUsage(ctx, orgId, input.usage!);
      let captured: Capture;
      try {
        captured = await captureLease(
          ctx,
          orgId,
          leaseId,
          null,
          [{ id: chargeId, amount: priced.amount, facts: { ...factsOf(info, 'ok'), ...priced.facts }, metadata: { endpoint: info.endpoint }, actor: actor(info) }],
          system,
        );
      } catch (err) {
        if (!(isAppError(err) && (err.code === 'reservation_expired' || err.code === 'reservation_already_released'))) throw err;
        return chargeWithoutLease(orgId, leaseId, chargeId, priced, info, err);
      }
      const [outcome] = captured.charges;
      if (!outcome.ok) throw outcome.error;
      return { charged: outcome.charged, remaining: captured.available };
    },

    async releaseLease(orgId, leaseId) {
      try {
        await releaseReservation(ctx, orgId, leaseId, system);
      } catch (err) {
        if (!(isAppError(err) && (err.code.startsWith('reservation_') || err.code === 'not_found'))) throw err;
      }
    },

    async close() {
      clearInterval(sweeper);
      for (const lease of [...current.values()]) retire(lease);
      for (const lease of live) if (lease.owed.length > 0) schedule(lease, 0);
      // Up to 10 s for the last captures and releases; not while the database cannot be reached (what is owed
      // then is in the journal, for reconcile).
      const deadline = Date.now() + 10_000;
      const reachable = () => [...live].some((lease) => lease.failures < o.captureAttempts);
      while (live.size > 0 && Date.now() < deadline && reachable()) await new Promise((r) => setTimeout(r, 5));
      closed = true;
      for (const lease of live) if (lease.timer) clearTimeout(lease.timer);
    },
  };
}

const holder = globalThis as unknown as { __creditsLeasedMeter?: ProxyMeter };

/** The process's leased meter over its ledger context, journaling its leases in `journalDir`. */
export function getLeasedMeter(ctx: LedgerContext, journalDir: string): ProxyMeter {
  holder.__creditsLeasedMeter ??= leasedMeter(ctx, { journalDir });
  return holder.__creditsLeasedMeter;
}
