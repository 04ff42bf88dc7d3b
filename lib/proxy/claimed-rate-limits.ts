/**
 * Rate limits admitted in memory from capacity claimed in PostgreSQL (proxy_claim, in the rate-limit claims
 * migration), so that most proxied requests wait for no database round trip and write nothing there.
 *
 * Per bucket (an API key's or an end user's requests per minute, tokens per minute, requests in flight), the
 * instance claims a share of the limit at once: up to a sixteenth of a per-minute limit of the current minute
 * (counted in the bucket's window at once, so no other instance can have it), up to an eighth of a concurrency
 * limit as slots (rows with a lease; at most 64), and never less than the request at hand needs nor more than
 * the limit leaves. Requests are then admitted from what it holds; a request that does not fit claims more,
 * and is refused with 429 and Retry-After exactly when the database has no more to give. So the instances
 * together never admit more than a limit; what one claimed and did not use makes the limit stricter for the
 * others until its minute ends (window shares), or until the next tick for slots it no longer needs (its
 * spare, below, once the bucket has been idle for 30 s; all of them when it stops; a crashed instance's
 * slots lapse with their lease).
 *
 * The next share is claimed ahead of need, so that requests do not wait for a claim's round trip (at 500
 * requests/s over one key, bursts of them waited 5 to 20 ms, more when the database was busy): once a request
 * leaves a bucket's share with less than a quarter of a claim (or less than that request took), a claim
 * starts in the background, and requests are admitted from what is left meanwhile. Likewise a bucket keeps a
 * quarter of a slot claim spare beyond the most slots it used since the last tick, and claims more once fewer
 * than half of that are free. Only where a claim is four or more: for smaller limits, what one instance
 * claimed ahead would be a large part of what the others may have. (A new minute still starts with one claim
 * per bucket: the database counts claims in its own minute, which cannot be claimed before it starts.)
 *
 * Tokens are admitted at the request's estimate and corrected when it ends: what it did not use is available
 * again to this instance's requests of the same minute; what it used beyond the estimate is taken from the
 * bucket's share, or owed by its next claim.
 *
 * Concurrency: admissions are synchronous in memory between awaits; claims for a bucket are one at a time
 * (a request that needs a bucket being claimed waits for that claim, then checks again), and claims waiting
 * for the previous statement share the next one (proxy_claim_batch, locking as proxy_admit_batch does).
 */
import { StatementBatcher } from '../db/statement-batcher.ts';
import { isAppError } from '../http/errors.ts';
import { logger } from '../http/logger.ts';
import type { SqlRunner } from '../ledger/apply.ts';
import { DEFAULT_LEASE_SECONDS, buckets, json, rateLimited, type Admission, type Bucket, type RateLimiter, type RateLimitSubject } from './rate-limits.ts';
import type { ProxyLimits } from './settings.ts';

type WindowShare = { window: string; limit: number; left: number; validUntil: number };
type SlotShare = { limit: number; ids: string[]; inUse: number; peak: number; usedAt: number };
type ClaimCall = {
  buckets: string[];
  needed: number[];
  wanted: number[];
  limits: number[];
  slot_buckets: string[];
  slot_wanted: number[];
  slot_limits: number[];
  lease: number;
};
type ClaimResult =
  | { admitted: true; window: string; valid_ms: number; grants: Record<string, number>; slots: Record<string, string[]> }
  | { admitted: false; bucket: string; retry_after_ms: number };

export type ClaimOptions = {
  /** A per-minute claim is up to this fraction of the limit. */
  windowShare: number;
  /** A slot claim is up to this fraction of the limit... */
  slotShare: number;
  /** ...and at most this many slots. */
  maxSlots: number;
  /** How often slots not needed go back and held slots' leases are renewed. */
  tickMs: number;
  /** A bucket keeps its spare slots until no request used it for this long. */
  spareIdleMs: number;
};

export const defaultClaimOptions: ClaimOptions = { windowShare: 1 / 16, slotShare: 1 / 8, maxSlots: 64, tickMs: 1_000, spareIdleMs: 30_000 };

type ClaimedAdmission = Admission & { slotBuckets: string[]; windows: Record<string, string> };

export class ClaimedRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, WindowShare>();
  private readonly slots = new Map<string, SlotShare>();
  private readonly claiming = new Map<string, Promise<void>>();
  /** Buckets not to claim ahead for until then: their last claim ahead got nothing or failed. */
  private readonly aheadPausedUntil = new Map<string, number>();
  private readonly claims: StatementBatcher<ClaimCall, ClaimResult>;
  /** Slots of shares whose limit changed, to give back. */
  private retired: string[] = [];
  private readonly timer: NodeJS.Timeout;
  private lastRenewal = Date.now();
  private readonly options: ClaimOptions;

  constructor(
    private readonly run: SqlRunner,
    private readonly leaseSeconds = DEFAULT_LEASE_SECONDS,
    options: Partial<ClaimOptions> = {},
  ) {
    this.options = { ...defaultClaimOptions, ...options };
    // Claims that wait for the previous statement go together in the next one (the first requests of many
    // users at the start of a minute, say).
    this.claims = new StatementBatcher(
      async (c) => {
        const [row] = await run('SELECT proxy_claim($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::bigint[], $7::bigint[], $8) AS r', [
          c.buckets,
          c.needed,
          c.wanted,
          c.limits,
          c.slot_buckets,
          c.slot_wanted,
          c.slot_limits,
          c.lease,
        ]);
        return json<ClaimResult>(row.r);
      },
      async (calls) => json<ClaimResult[]>((await run('SELECT proxy_claim_batch($1::jsonb) AS r', [JSON.stringify(calls)]))[0].r),
    );
    this.timer = setInterval(() => void this.tick().catch((err: unknown) => logger.error({ err, event: 'proxy.rate_limit_tick_failed' }, 'could not give back or renew rate-limit slots')), this.options.tickMs);
    this.timer.unref?.();
  }

  get lease(): number {
    return this.leaseSeconds;
  }

  async admit(limits: ProxyLimits, subject: RateLimitSubject, estimatedTokens: number): Promise<Admission> {
    const { windows, slots } = buckets(limits, subject, Math.max(0, Math.ceil(estimatedTokens)));
    for (;;) {
      const now = Date.now();
      const shortWindows = windows.filter((w) => !this.windowFits(w, now));
      const shortSlots = slots.filter((s) => !this.slotFits(s));
      if (shortWindows.length === 0 && shortSlots.length === 0) {
        const admission = this.take(windows, slots);
        this.claimAhead(windows, slots);
        return admission;
      }
      // Wait for claims already under way for these buckets; then claim what is still short.
      const busy = [...shortWindows, ...shortSlots].map((b) => this.claiming.get(b.name)).filter((p): p is Promise<void> => p !== undefined);
      if (busy.length > 0) {
        await Promise.allSettled(busy);
        continue;
      }
      await this.claim(shortWindows, shortSlots, now);
    }
  }

  /** A quarter of a per-minute claim. */
  private windowReserve(limit: number): number {
    return Math.floor(Math.ceil(limit * this.options.windowShare) / 4);
  }

  /** The slots a claim asks for... */
  private slotClaim(limit: number): number {
    return Math.max(1, Math.min(this.options.maxSlots, Math.ceil(limit * this.options.slotShare)));
  }

  /** ...and a quarter of them: kept spare at a tick; more are claimed when fewer than half of that are free. */
  private slotReserve(limit: number): number {
    return Math.floor(this.slotClaim(limit) / 4);
  }

  /**
   * Starts the claim of the buckets running low after a request took from them, unless under way already or
   * given nothing (or failed) less than a tick ago: near a limit, or while the database cannot be reached,
   * requests would otherwise each send a claim ahead.
   */
  private claimAhead(windows: Bucket[], slots: { name: string; limit: number }[]): void {
    const now = Date.now();
    const may = (name: string) => !this.claiming.has(name) && (this.aheadPausedUntil.get(name) ?? 0) <= now;
    const low = windows.filter((w) => {
      const reserve = this.windowReserve(w.limit);
      return reserve > 0 && this.windows.get(w.name)!.left < Math.max(w.amount, reserve) && may(w.name);
    });
    const lowSlots = slots.filter((s) => {
      const share = this.slots.get(s.name)!;
      return share.ids.length - share.inUse < this.slotReserve(s.limit) / 2 && may(s.name);
    });
    if (low.length === 0 && lowSlots.length === 0) return;
    // Nothing is needed now: a claim that the database refuses, or that fails, leaves the shares as they are,
    // and the request that finds one short claims again and is answered by that.
    const pause = (names: string[]) => {
      for (const name of names) this.aheadPausedUntil.set(name, Date.now() + this.options.tickMs);
    };
    this.claim(
      low.map((w) => ({ ...w, amount: 0 })),
      lowSlots,
      now,
    ).then(
      // A window with nothing left this minute is granted nothing rather than refused.
      (granted) => pause(low.filter((w) => !granted[w.name]).map((w) => w.name)),
      (err: unknown) => {
        pause([...low, ...lowSlots].map((b) => b.name));
        if (!(isAppError(err) && err.code === 'rate_limited')) logger.warn({ err, event: 'proxy.rate_limit_claim_ahead_failed' }, 'could not claim rate-limit capacity ahead');
      },
    );
  }

  async finish(admission: Admission, usedTokens: number): Promise<void> {
    const a = admission as ClaimedAdmission;
    const used = Math.max(0, Math.ceil(usedTokens));
    for (const b of a.tokenBuckets) {
      const share = this.windows.get(b.name);
      if (!share) continue;
      // The same minute: what the request did not use serves the next ones. A later minute: only an excess
      // counts, owed by this minute's share.
      if (share.window === a.windows[b.name]) share.left += b.amount - used;
      else if (used > b.amount) share.left -= used - b.amount;
    }
    for (const name of a.slotBuckets) {
      const share = this.slots.get(name);
      if (share && share.inUse > 0) share.inUse -= 1;
    }
  }

  /** Slots this instance holds are renewed together while it runs; nothing to do per request. */
  async extend(): Promise<void> {}

  /** Gives back every slot this instance holds. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    const ids = [...this.slots.values()].flatMap((s) => s.ids);
    this.slots.clear();
    await this.giveBack(ids);
  }

  private async giveBack(ids: string[]): Promise<void> {
    if (ids.length > 0) await this.run('DELETE FROM proxy_concurrency_slots WHERE id = ANY($1::uuid[])', [ids]);
  }

  private windowFits(w: Bucket, now: number): boolean {
    const share = this.windows.get(w.name);
    return share !== undefined && share.limit === w.limit && share.validUntil > now && share.left >= w.amount;
  }

  private slotFits(s: { name: string; limit: number }): boolean {
    const share = this.slots.get(s.name);
    return share !== undefined && share.limit === s.limit && share.inUse < share.ids.length;
  }

  private take(windows: Bucket[], slots: { name: string }[]): ClaimedAdmission {
    const windowOf: Record<string, string> = {};
    let window = '';
    for (const w of windows) {
      const share = this.windows.get(w.name)!;
      share.left -= w.amount;
      windowOf[w.name] = share.window;
      window = share.window;
    }
    for (const s of slots) {
      const share = this.slots.get(s.name)!;
      share.inUse += 1;
      share.peak = Math.max(share.peak, share.inUse);
      share.usedAt = Date.now();
    }
    return {
      slot: '',
      window,
      tokenBuckets: windows.filter((b) => b.name.endsWith(':tpm')).map((b) => ({ name: b.name, amount: b.amount })),
      slotBuckets: slots.map((s) => s.name),
      windows: windowOf,
    };
  }

  /** Claims for the buckets; resolves to what the database granted each window bucket. */
  private claim(windows: Bucket[], slots: { name: string; limit: number }[], now: number): Promise<Record<string, number>> {
    const claimed = this.claimOnce(windows, slots, now);
    const names = [...windows, ...slots].map((b) => b.name);
    const settled = claimed.then(
      () => undefined,
      () => undefined,
    );
    for (const name of names) this.claiming.set(name, settled);
    return claimed.finally(() => {
      for (const name of names) if (this.claiming.get(name) === settled) this.claiming.delete(name);
    });
  }

  private async claimOnce(windows: Bucket[], slots: { name: string; limit: number }[], now: number): Promise<Record<string, number>> {
    // A share of another minute or limit is dropped, but what it owes (left below zero) is claimed too.
    const owed = (w: Bucket) => {
      const share = this.windows.get(w.name);
      return share && share.limit === w.limit ? Math.max(0, -share.left) : 0;
    };
    const needed = windows.map((w) => w.amount + owed(w));
    const wanted = windows.map((w, i) => Math.max(needed[i], Math.ceil(w.limit * this.options.windowShare)));
    const slotWanted = slots.map((s) => this.slotClaim(s.limit));
    const result = await this.claims.submit({
      buckets: windows.map((w) => w.name),
      needed: needed.map((n, i) => Math.min(n, windows[i].limit)),
      wanted: wanted.map((n, i) => Math.min(n, windows[i].limit)),
      limits: windows.map((w) => w.limit),
      slot_buckets: slots.map((s) => s.name),
      slot_wanted: slotWanted,
      slot_limits: slots.map((s) => s.limit),
      lease: this.leaseSeconds,
    });
    if (!result.admitted) throw rateLimited(result.bucket, Number(result.retry_after_ms));
    // What is left of the database's minute, counted from before it was asked: never past the minute's end.
    const validUntil = now + Number(result.valid_ms);
    for (const w of windows) {
      const granted = Number(result.grants[w.name] ?? 0);
      const share = this.windows.get(w.name);
      if (share && share.limit === w.limit && share.window === result.window) {
        share.left += granted;
        share.validUntil = validUntil;
      } else {
        this.windows.set(w.name, { window: result.window, limit: w.limit, left: granted - owed(w), validUntil });
      }
    }
    for (const s of slots) {
      const ids = result.slots[s.name] ?? [];
      const share = this.slots.get(s.name);
      if (share && share.limit === s.limit) share.ids.push(...ids);
      else {
        // A changed limit: the old share's unused slots go back with the next tick.
        if (share) this.retired.push(...share.ids);
        this.slots.set(s.name, { limit: s.limit, ids, inUse: share?.inUse ?? 0, peak: share?.inUse ?? 0, usedAt: now });
      }
    }
    return Object.fromEntries(windows.map((w) => [w.name, Number(result.grants[w.name] ?? 0)]));
  }

  /**
   * Gives back the slots a bucket held beyond what it used at most since the last tick and its spare (all of
   * them when unused and idle), renews the leases of the rest every third of the lease, and forgets minutes
   * that have ended.
   */
  private async tick(): Promise<void> {
    const now = Date.now();
    const unneeded = this.retired.splice(0);
    for (const [name, share] of this.slots) {
      const used = Math.max(share.inUse, share.peak);
      const spare = now - share.usedAt < this.options.spareIdleMs ? this.slotReserve(share.limit) : 0;
      if (share.ids.length > used + spare) unneeded.push(...share.ids.splice(used + spare));
      share.peak = share.inUse;
      if (share.ids.length === 0) this.slots.delete(name);
    }
    for (const [name, share] of this.windows) if (share.validUntil <= now && share.left >= 0) this.windows.delete(name);
    for (const [name, until] of this.aheadPausedUntil) if (until <= now) this.aheadPausedUntil.delete(name);
    await this.giveBack(unneeded);
    if (now - this.lastRenewal >= (this.leaseSeconds * 1000) / 3) {
      this.lastRenewal = now;
      const held = [...this.slots.values()].flatMap((s) => s.ids);
      if (held.length > 0) {
        await this.run('UPDATE proxy_concurrency_slots SET expires_at = clock_timestamp() + make_interval(secs => $2) WHERE id = ANY($1::uuid[])', [held, this.leaseSeconds]);
      }
    }
  }
}
