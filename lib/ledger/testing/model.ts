/**
 * A pure model of the credit ledger, for model-based property tests (lib/ledger/ledger.model.db.test.ts and
 * scripts/ledger-property.ts): random scenarios of grants, moves, holds, commits, releases, leases and their
 * captures, usage events (one by one and in batches), idempotent replays and clock jumps, and what the ledger
 * must answer and hold after each of them.
 *
 * The model keeps lots as classes of equal terms (account, priority, expiry, creation time): the database
 * breaks ties between such lots by a random id, and lots of equal terms are interchangeable for everything a
 * customer can observe. It mirrors the ledger's rules, not its code: spend order is priority high first, then
 * earliest expiry, then oldest; a hold sets credits aside from lots; what expires goes to breakage; debt from
 * overdraft is repaid first by the next credits that arrive.
 */
import fc from 'fast-check';

export const CREDIT = 1_000_000n;

/** The pool, or a member by index. */
export type AccountRef = 'pool' | number;

export type Policy = { overdraft: bigint; poolFallback: boolean; poolDailyLimit: bigint | null };

/** What the generator draws: references are resolved against the model's state when the step runs. */
export type Step =
  | { kind: 'grant'; to: AccountRef; amount: number; priority: number; expiresIn: number | null; key: string | null }
  | { kind: 'allocate' | 'reclaim'; user: number; amount: number; key: string | null }
  | { kind: 'transfer'; from: AccountRef; to: AccountRef; amount: number; key: string | null }
  | { kind: 'reserve'; user: number; amount: number; ttl: number; key: string | null }
  | { kind: 'commit'; hold: number; mode: 'less' | 'equal' | 'more'; delta: number; key: string | null }
  | { kind: 'retryCommit'; hold: number }
  | { kind: 'release'; hold: number; key: string | null }
  | { kind: 'lease'; user: number; amount: number; min: number; ttl: number }
  | { kind: 'capture'; hold: number; charges: Array<{ charge: number; amount: number; fromHold: number | null }> }
  | { kind: 'usage'; user: number; event: number; amount: number }
  | { kind: 'usageBatch'; events: Array<{ user: number; event: number; amount: number }>; key: string | null }
  | { kind: 'repeatUsage'; ref: number }
  | { kind: 'replay'; ref: number }
  | { kind: 'advance'; seconds: number };

export type Scenario = { users: number; start: number; policy: Policy; steps: Step[] };

/** A step resolved to one concrete request (amounts in micro-credits, times in epoch milliseconds). */
export type Request =
  | { kind: 'grant'; to: AccountRef; amount: bigint; priority: number; expiresAt: number | null; key: string | null }
  | { kind: 'move'; move: 'allocation' | 'reclaim' | 'transfer'; from: AccountRef; to: AccountRef; amount: bigint; key: string | null }
  | { kind: 'reserve'; user: number; amount: bigint; ttl: number; key: string | null }
  | { kind: 'commit'; hold: number; amount: bigint; key: string | null }
  | { kind: 'release'; hold: number; key: string | null }
  | { kind: 'lease'; user: number; amount: bigint; min: bigint; ttl: number }
  | { kind: 'capture'; hold: number; charges: Array<{ id: string; amount: bigint; fromHold: bigint | null }> }
  | { kind: 'usage'; user: number; event: string; amount: bigint }
  | { kind: 'usageBatch'; events: Array<{ user: number; event: string; amount: bigint }>; key: string | null }
  | { kind: 'advance'; seconds: number };

export type Outcome =
  | {
      ok: true;
      hold?: number;
      fundedBy?: 'user' | 'pool';
      charged?: bigint;
      released?: bigint;
      status?: 'charged' | 'duplicate' | 'captured';
      /** A usage batch: one outcome per event; a capture: one per charge. */
      events?: Outcome[];
    }
  | { ok: false; code: string };

/** The outcome, and whether the request may change any balance, lot or hold at all. */
export type Applied = { outcome: Outcome; effect: boolean };

export type HoldStatus = 'active' | 'committed' | 'released' | 'expired';

export type ModelLot = { account: string; priority: number; expiresAt: number | null; createdAt: number; remaining: bigint };
type Piece = { lot: string; amount: bigint };
export type ModelHold = {
  account: string;
  member: number;
  amount: bigint;
  pieces: Piece[];
  expiresAt: number;
  createdAt: number;
  status: HoldStatus;
  hash: string | null;
  result: Outcome | null;
  charged: bigint | null;
  /** Captured in parts (a lease). */
  lease: boolean;
};

export type AccountView = { balance: bigint; held: bigint; debt: bigint };

export function accountName(ref: AccountRef): string {
  return ref === 'pool' ? 'pool' : `u${ref}`;
}

export function lotKey(account: string, priority: number, expiresAt: number | null, createdAt: number): string {
  return `${account}|${priority}|${expiresAt ?? '-'}|${createdAt}`;
}

/** A stable text of a request's meaning without its idempotency key: same text, same request. */
export function requestFingerprint(req: Request): string {
  const { key: _key, ...rest } = req as Request & { key?: string | null };
  return JSON.stringify(rest, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

/** The UTC day of a moment, as the ledger names pool-draw periods, and when it began. */
function utcDay(now: number): { day: string; dayStart: number } {
  const d = new Date(now);
  return { day: `d:${d.toISOString().slice(0, 10)}`, dayStart: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) };
}

const fail = (code: string): Applied => ({ outcome: { ok: false, code }, effect: false });

export class LedgerModel {
  now: number;
  readonly lots = new Map<string, ModelLot>();
  readonly debt = new Map<string, bigint>();
  readonly holds: ModelHold[] = [];
  private readonly events = new Map<string, { fingerprint: string; amount: bigint }>();
  /** Charges captured from leases, by id. */
  private readonly captured = new Map<string, bigint>();
  private readonly poolDraws = new Map<string, bigint>();
  private readonly keys = new Map<string, { fingerprint: string; outcome: Outcome }>();
  /** Requests sent with an idempotency key, for replays; usage requests, for repeats; commits by hold. */
  readonly keyed: Request[] = [];
  readonly usages: Request[] = [];
  readonly lastCommit = new Map<number, Extract<Request, { kind: 'commit' }>>();

  constructor(
    readonly users: number,
    start: number,
    readonly policy: Policy,
  ) {
    this.now = start;
  }

  accounts(): string[] {
    return ['pool', ...Array.from({ length: this.users }, (_, i) => `u${i}`)];
  }

  // Views ----------------------------------------------------------------------------------------------------

  view(account: string): AccountView {
    let lots = 0n;
    for (const l of this.lots.values()) if (l.account === account) lots += l.remaining;
    const held = this.holds.filter((h) => h.account === account && h.status === 'active').reduce((s, h) => s + h.amount, 0n);
    const debt = this.debt.get(account) ?? 0n;
    return { balance: lots + held - debt, held, debt };
  }

  /** Lot classes with something left, as `key=remaining` lines in a stable order. */
  lotLines(): string[] {
    return [...this.lots.entries()]
      .filter(([, l]) => l.remaining > 0n)
      .map(([k, l]) => `${k}=${l.remaining}`)
      .sort();
  }

  // Lots -----------------------------------------------------------------------------------------------------

  private spendable(account: string): Array<[string, ModelLot]> {
    return [...this.lots.entries()]
      .filter(([, l]) => l.account === account && l.remaining > 0n && (l.expiresAt === null || l.expiresAt > this.now))
      .sort(([, a], [, b]) => {
        if (a.priority !== b.priority) return b.priority - a.priority;
        if (a.expiresAt !== b.expiresAt) {
          if (a.expiresAt === null) return 1;
          if (b.expiresAt === null) return -1;
          return a.expiresAt - b.expiresAt;
        }
        return a.createdAt - b.createdAt;
      });
  }

  private take(account: string, amount: bigint): Piece[] {
    const pieces: Piece[] = [];
    let left = amount;
    for (const [key, lot] of this.spendable(account)) {
      if (left === 0n) break;
      const t = lot.remaining < left ? lot.remaining : left;
      lot.remaining -= t;
      left -= t;
      pieces.push({ lot: key, amount: t });
    }
    return pieces;
  }

  private giveBack(pieces: Piece[]): void {
    for (const p of pieces) this.lots.get(p.lot)!.remaining += p.amount;
  }

  private addLot(account: string, amount: bigint, priority: number, expiresAt: number | null): void {
    const key = lotKey(account, priority, expiresAt, this.now);
    const lot = this.lots.get(key);
    if (lot) lot.remaining += amount;
    else this.lots.set(key, { account, priority, expiresAt, createdAt: this.now, remaining: amount });
  }

  private settleDebt(account: string): void {
    const debt = this.debt.get(account) ?? 0n;
    if (debt <= 0n) return;
    const paid = this.take(account, debt).reduce((s, p) => s + p.amount, 0n);
    this.debt.set(account, debt - paid);
  }

  /** Charges `amount` to an account: the given pieces first, then its lots, then debt. */
  private charge(account: string, amount: bigint, pieces: Piece[]): void {
    let short = amount - pieces.reduce((s, p) => s + p.amount, 0n);
    if (short > 0n) short -= this.take(account, short).reduce((s, p) => s + p.amount, 0n);
    if (short > 0n) this.debt.set(account, (this.debt.get(account) ?? 0n) + short);
  }

  // Expiry ---------------------------------------------------------------------------------------------------

  /** Expires what is due on an account: holds give their credits back, then expired lots go to breakage. */
  sweep(account: string): void {
    let released = 0n;
    for (const h of this.holds) {
      if (h.account === account && h.status === 'active' && h.expiresAt <= this.now) {
        h.status = 'expired';
        this.giveBack(h.pieces);
        released += h.amount;
      }
    }
    for (const l of this.lots.values()) {
      if (l.account === account && l.remaining > 0n && l.expiresAt !== null && l.expiresAt <= this.now) l.remaining = 0n;
    }
    if (released > 0n) this.settleDebt(account);
  }

  sweepAll(): void {
    for (const a of this.accounts()) this.sweep(a);
  }

  available(account: string): bigint {
    this.sweep(account);
    const v = this.view(account);
    return v.balance - v.held;
  }

  // Pool fallback --------------------------------------------------------------------------------------------

  private poolUsed(member: number, period: string, periodStart: number): bigint {
    const drawn = this.poolDraws.get(`${member}|${period}`) ?? 0n;
    const holding = this.holds
      .filter((h) => h.account === 'pool' && h.member === member && h.status === 'active' && h.expiresAt > this.now && h.createdAt >= periodStart)
      .reduce((s, h) => s + h.amount, 0n);
    return drawn + holding;
  }

  private poolAllows(member: number, amount: bigint): boolean {
    if (!this.policy.poolFallback) return false;
    const p = utcDay(this.now);
    if (this.policy.poolDailyLimit !== null && this.poolUsed(member, p.day, p.dayStart) + amount > this.policy.poolDailyLimit) {
      return false;
    }
    return this.available('pool') >= amount;
  }

  private recordPoolDraw(member: number, amount: bigint): void {
    const k = `${member}|${utcDay(this.now).day}`;
    this.poolDraws.set(k, (this.poolDraws.get(k) ?? 0n) + amount);
  }

  // Steps ----------------------------------------------------------------------------------------------------

  /** The concrete request a step means now, or null when it has nothing to act on. */
  resolve(step: Step): Request | null {
    const user = (i: number) => i % this.users;
    const ref = (r: AccountRef): AccountRef => (r === 'pool' ? 'pool' : user(r));
    const credits = (n: number) => BigInt(n) * CREDIT;
    switch (step.kind) {
      case 'grant':
        return {
          kind: 'grant',
          to: ref(step.to),
          amount: credits(step.amount),
          priority: step.priority,
          expiresAt: step.expiresIn === null ? null : this.now + step.expiresIn * 1000,
          key: step.key,
        };
      case 'allocate':
        return { kind: 'move', move: 'allocation', from: 'pool', to: user(step.user), amount: credits(step.amount), key: step.key };
      case 'reclaim':
        return { kind: 'move', move: 'reclaim', from: user(step.user), to: 'pool', amount: credits(step.amount), key: step.key };
      case 'transfer': {
        const from = ref(step.from);
        const to = ref(step.to);
        if (from === to) return null;
        return { kind: 'move', move: 'transfer', from, to, amount: credits(step.amount), key: step.key };
      }
      case 'reserve':
        return { kind: 'reserve', user: user(step.user), amount: credits(step.amount), ttl: step.ttl, key: step.key };
      case 'commit': {
        if (this.holds.length === 0) return null;
        const hold = step.hold % this.holds.length;
        const held = this.holds[hold].amount;
        const delta = credits(step.delta);
        const amount = step.mode === 'equal' ? held : step.mode === 'more' ? held + delta : held > delta ? held - delta : 0n;
        return { kind: 'commit', hold, amount, key: step.key };
      }
      case 'retryCommit': {
        if (this.holds.length === 0) return null;
        const last = this.lastCommit.get(step.hold % this.holds.length);
        return last ? { ...last, key: null } : null;
      }
      case 'release':
        if (this.holds.length === 0) return null;
        return { kind: 'release', hold: step.hold % this.holds.length, key: step.key };
      case 'lease':
        return { kind: 'lease', user: user(step.user), amount: credits(step.amount), min: credits(Math.min(step.min, step.amount)), ttl: step.ttl };
      case 'capture':
        if (this.holds.length === 0) return null;
        return {
          kind: 'capture',
          hold: step.hold % this.holds.length,
          // Each request once per capture (the proxy never captures one twice at once).
          charges: step.charges
            .filter((c, i) => step.charges.findIndex((d) => d.charge === c.charge) === i)
            .map((c) => ({ id: `c${c.charge}`, amount: credits(c.amount), fromHold: c.fromHold === null ? null : credits(c.fromHold) })),
        };
      case 'usage':
        return { kind: 'usage', user: user(step.user), event: `e${step.event}`, amount: credits(step.amount) };
      case 'usageBatch':
        return {
          kind: 'usageBatch',
          events: step.events.map((e) => ({ user: user(e.user), event: `e${e.event}`, amount: credits(e.amount) })),
          key: step.key,
        };
      case 'repeatUsage':
        return this.usages.length === 0 ? null : this.usages[step.ref % this.usages.length];
      case 'replay':
        return this.keyed.length === 0 ? null : this.keyed[step.ref % this.keyed.length];
      case 'advance':
        return { kind: 'advance', seconds: step.seconds };
    }
  }

  /** Applies a request as the ledger must, then expires whatever is due (as every read of a balance does). */
  apply(req: Request): Applied {
    const applied = this.applyKeyed(req);
    if (req.kind === 'usage') this.usages.push(req);
    if (req.kind === 'commit') this.lastCommit.set(req.hold, req);
    this.sweepAll();
    return applied;
  }

  private applyKeyed(req: Request): Applied {
    const key = 'key' in req ? req.key : null;
    if (key === null) return this.exec(req);
    this.keyed.push(req);
    const fingerprint = requestFingerprint(req);
    const stored = this.keys.get(key);
    if (stored) return stored.fingerprint === fingerprint ? { outcome: stored.outcome, effect: false } : fail('idempotency_mismatch');
    const applied = this.exec(req);
    this.keys.set(key, { fingerprint, outcome: applied.outcome });
    return applied;
  }

  private exec(req: Request): Applied {
    switch (req.kind) {
      case 'grant': {
        const account = accountName(req.to);
        this.addLot(account, req.amount, req.priority, req.expiresAt);
        this.settleDebt(account);
        return { outcome: { ok: true }, effect: true };
      }
      case 'move': {
        const from = accountName(req.from);
        const to = accountName(req.to);
        if (this.available(from) < req.amount) return fail('insufficient_credits');
        for (const p of this.take(from, req.amount)) {
          const lot = this.lots.get(p.lot)!;
          this.addLot(to, p.amount, lot.priority, lot.expiresAt);
        }
        this.settleDebt(to);
        return { outcome: { ok: true }, effect: true };
      }
      case 'reserve':
        return this.reserve(req);
      case 'commit':
        return this.commit(req);
      case 'release':
        return this.release(req);
      case 'lease':
        return this.lease(req);
      case 'capture':
        return this.capture(req);
      case 'usage':
        return this.usage(req);
      case 'usageBatch':
        return this.usageBatch(req);
      case 'advance':
        this.now += req.seconds * 1000;
        return { outcome: { ok: true }, effect: true };
    }
  }

  private reserve(req: Extract<Request, { kind: 'reserve' }>): Applied {
    const own = accountName(req.user);
    let funded = own;
    if (this.available(own) < req.amount) {
      if (!this.poolAllows(req.user, req.amount)) return fail('insufficient_credits');
      funded = 'pool';
    }
    const hold = this.hold(funded, req.user, req.amount, req.ttl, false);
    return { outcome: { ok: true, hold, fundedBy: funded === own ? 'user' : 'pool' }, effect: true };
  }

  /** Sets `amount` aside from the account's lots as a new active hold; returns its index. */
  private hold(account: string, member: number, amount: bigint, ttl: number, lease: boolean): number {
    const pieces = this.take(account, amount);
    const now = this.now;
    this.holds.push({ account, member, amount, pieces, expiresAt: now + ttl * 1000, createdAt: now, status: 'active', hash: null, result: null, charged: null, lease });
    return this.holds.length - 1;
  }

  /** A lease: the member's own credits only, at most the amount, at least the minimum, never more than half of what is available beyond it. */
  private lease(req: Extract<Request, { kind: 'lease' }>): Applied {
    const own = accountName(req.user);
    const available = this.available(own);
    const half = available / 2n;
    const most = req.min > half ? req.min : half;
    const amount = req.amount < most ? req.amount : most;
    if (available < amount) return fail('insufficient_credits');
    const hold = this.hold(own, req.user, amount, req.ttl, true);
    return { outcome: { ok: true, hold, fundedBy: 'user', charged: amount }, effect: true };
  }

  /**
   * Charges from a lease, in order: a charge captured before answers duplicate; the first new one finds the
   * lease expired or resolved, or each takes from the front of what the lease holds (at most fromHold of it)
   * and the rest from what is available plus overdraft, or is refused alone.
   */
  private capture(req: Extract<Request, { kind: 'capture' }>): Applied {
    const h = this.holds[req.hold];
    if (!h.lease) return fail('conflict');
    const events: Outcome[] = [];
    let checked = false;
    let effect = false;
    for (const c of req.charges) {
      const before = this.captured.get(c.id);
      if (before !== undefined) {
        events.push({ ok: true, status: 'duplicate', charged: before });
        continue;
      }
      if (!checked) {
        if (h.status === 'active' && h.expiresAt <= this.now) {
          this.sweep(h.account);
          return { outcome: { ok: false, code: 'reservation_expired' }, effect: true };
        }
        if (h.status !== 'active') return this.resolved(h, 'capture');
        checked = true;
      }
      if (c.amount > 0n) {
        let cap = c.fromHold !== null && c.fromHold < c.amount ? c.fromHold : c.amount;
        const pays: Piece[] = [];
        const rest: Piece[] = [];
        for (const p of h.pieces) {
          const t = p.amount < cap ? p.amount : cap;
          if (t > 0n) pays.push({ lot: p.lot, amount: t });
          if (p.amount > t) rest.push({ lot: p.lot, amount: p.amount - t });
          cap -= t;
        }
        const fromHold = pays.reduce((s, p) => s + p.amount, 0n);
        const left = c.amount - fromHold;
        // What the hold still counts is the lease's until this charge takes it.
        if (left > 0n && this.available(h.account) - left < -this.policy.overdraft) {
          events.push({ ok: false, code: 'commit_exceeds_available' });
          continue;
        }
        h.pieces = rest;
        h.amount -= fromHold;
        this.charge(h.account, c.amount, pays);
        h.charged = (h.charged ?? 0n) + c.amount;
      }
      this.captured.set(c.id, c.amount);
      effect = true;
      events.push({ ok: true, status: 'captured', charged: c.amount });
    }
    return { outcome: { ok: true, events }, effect };
  }

  /** The answer to a request for a hold that is no longer active: the first resolution stands. */
  private resolved(h: ModelHold, hash: string): Applied {
    if (h.status === 'expired') return fail('reservation_expired');
    if (h.hash === hash) return { outcome: h.result!, effect: false };
    return fail(h.status === 'committed' ? 'reservation_already_committed' : 'reservation_already_released');
  }

  private commit(req: Extract<Request, { kind: 'commit' }>): Applied {
    const h = this.holds[req.hold];
    const hash = `commit:${req.amount}`;
    if (h.status === 'active' && h.expiresAt <= this.now) {
      this.sweep(h.account);
      return { outcome: { ok: false, code: 'reservation_expired' }, effect: true };
    }
    if (h.status !== 'active') return this.resolved(h, hash);
    const pays: Piece[] = [];
    const back: Piece[] = [];
    let left = req.amount;
    for (const p of h.pieces) {
      const t = p.amount < left ? p.amount : left;
      if (t > 0n) pays.push({ lot: p.lot, amount: t });
      if (p.amount > t) back.push({ lot: p.lot, amount: p.amount - t });
      left -= t;
    }
    if (left > 0n && this.available(h.account) - left < -this.policy.overdraft) return fail('commit_exceeds_available');
    if (req.amount > 0n) this.charge(h.account, req.amount, pays);
    this.giveBack(back);
    h.status = 'committed';
    if (h.account === 'pool' && req.amount > 0n) this.recordPoolDraw(h.member, req.amount);
    if (back.length > 0) this.settleDebt(h.account);
    h.hash = hash;
    h.charged = req.amount;
    h.result = { ok: true, charged: req.amount, released: h.amount > req.amount ? h.amount - req.amount : 0n };
    return { outcome: h.result, effect: true };
  }

  private release(req: Extract<Request, { kind: 'release' }>): Applied {
    const h = this.holds[req.hold];
    if (h.status === 'active' && h.expiresAt <= this.now) {
      this.sweep(h.account);
      return { outcome: { ok: false, code: 'reservation_expired' }, effect: true };
    }
    if (h.status !== 'active') return this.resolved(h, 'release');
    this.giveBack(h.pieces);
    h.status = 'released';
    this.settleDebt(h.account);
    h.hash = 'release';
    h.result = { ok: true, released: h.amount };
    return { outcome: h.result, effect: true };
  }

  private usage(req: Extract<Request, { kind: 'usage' }>): Applied {
    const fingerprint = `${req.user}|${req.amount}`;
    const known = this.events.get(req.event);
    if (known) {
      if (known.fingerprint !== fingerprint) return fail('event_conflict');
      return { outcome: { ok: true, status: 'duplicate', charged: known.amount }, effect: false };
    }
    const own = accountName(req.user);
    let funded = own;
    if (req.amount > 0n && this.available(own) - req.amount < -this.policy.overdraft) {
      if (!this.poolAllows(req.user, req.amount)) return fail('insufficient_credits');
      funded = 'pool';
    }
    this.events.set(req.event, { fingerprint, amount: req.amount });
    if (req.amount > 0n) this.charge(funded, req.amount, []);
    if (funded === 'pool') this.recordPoolDraw(req.user, req.amount);
    return { outcome: { ok: true, status: 'charged', charged: req.amount }, effect: true };
  }

  /**
   * A batch of usage events. Members who may fall back on the pool have their events charged one by one, as
   * single events. The others' are charged together: an event id already known answers duplicate (same
   * content) or event_conflict; in the batch, the first occurrence of an id counts and a later one answers
   * duplicate (same content) or event_conflict; each member's new events are accepted in order while their
   * running total fits in what was available (plus overdraft) when the batch began, and once one does not fit,
   * neither does any later one (but events of 0 credits are always recorded); the accepted total is drawn from
   * the member's lots in spend order.
   */
  private usageBatch(req: Extract<Request, { kind: 'usageBatch' }>): Applied {
    if (this.policy.poolFallback) {
      const results = req.events.map((e) => this.usage({ kind: 'usage', ...e }));
      return { outcome: { ok: true, events: results.map((r) => r.outcome) }, effect: results.some((r) => r.effect) };
    }
    const fingerprint = (e: { user: number; amount: bigint }) => `${e.user}|${e.amount}`;
    const first = new Map<string, number>();
    req.events.forEach((e, i) => first.has(e.event) || first.set(e.event, i));
    const known = new Map(req.events.map((e) => [e.event, this.events.get(e.event)]));
    const room = new Map<string, bigint>();
    const running = new Map<string, bigint>();
    const accepted = new Set<number>();
    for (const i of [...first.values()].sort((a, b) => a - b)) {
      const e = req.events[i];
      if (known.get(e.event)) continue;
      const account = accountName(e.user);
      if (!room.has(account)) room.set(account, this.available(account) + this.policy.overdraft);
      const total = (running.get(account) ?? 0n) + e.amount;
      running.set(account, total);
      if (e.amount === 0n || total <= room.get(account)!) accepted.add(i);
    }
    const totals = new Map<string, bigint>();
    for (const i of accepted) {
      const e = req.events[i];
      this.events.set(e.event, { fingerprint: fingerprint(e), amount: e.amount });
      totals.set(accountName(e.user), (totals.get(accountName(e.user)) ?? 0n) + e.amount);
    }
    for (const [account, total] of totals) if (total > 0n) this.charge(account, total, []);
    const events = req.events.map((e, i): Outcome => {
      const k = known.get(e.event);
      if (k) return k.fingerprint === fingerprint(e) ? { ok: true, status: 'duplicate', charged: k.amount } : { ok: false, code: 'event_conflict' };
      const f = first.get(e.event)!;
      if (fingerprint(req.events[f]) !== fingerprint(e)) return { ok: false, code: 'event_conflict' };
      if (!accepted.has(f)) return { ok: false, code: 'insufficient_credits' };
      return { ok: true, status: f === i ? 'charged' : 'duplicate', charged: e.amount };
    });
    return { outcome: { ok: true, events }, effect: accepted.size > 0 };
  }
}

// Generators -------------------------------------------------------------------------------------------------

const amount = fc.integer({ min: 1, max: 10 });
// Mostly without a key; a few of two keys, so that keys are reused for the same and for other requests.
const key = fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('k1', 'k2') });
const member = fc.integer({ min: 0, max: 2 });
const accountRef: fc.Arbitrary<AccountRef> = fc.oneof(fc.constant('pool' as const), member);
const hold = fc.nat(20);

const grant: fc.Arbitrary<Step> = fc.record({
  kind: fc.constant('grant' as const),
  to: accountRef,
  amount: fc.integer({ min: 1, max: 40 }),
  priority: fc.constantFrom(0, 0, 5, -1),
  expiresIn: fc.option(fc.integer({ min: 60, max: 4 * 3600 }), { freq: 2, nil: null }),
  key,
});

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: grant },
  { weight: 3, arbitrary: fc.record({ kind: fc.constantFrom('allocate' as const, 'reclaim' as const), user: member, amount, key }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('transfer' as const), from: accountRef, to: accountRef, amount, key }) },
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant('reserve' as const), user: member, amount, ttl: fc.integer({ min: 30, max: 3600 }), key }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('commit' as const),
      hold,
      mode: fc.constantFrom('less' as const, 'equal' as const, 'more' as const),
      delta: fc.integer({ min: 1, max: 10 }),
      key,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retryCommit' as const), hold }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), hold, key }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('lease' as const), user: member, amount: fc.integer({ min: 1, max: 30 }), min: amount, ttl: fc.integer({ min: 30, max: 3600 }) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('capture' as const),
      hold,
      charges: fc.array(
        fc.record({ charge: fc.nat(6), amount: fc.integer({ min: 0, max: 8 }), fromHold: fc.option(fc.integer({ min: 0, max: 8 }), { freq: 3, nil: null }) }),
        { minLength: 1, maxLength: 3 },
      ),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('usage' as const), user: member, event: fc.nat(3), amount: fc.integer({ min: 0, max: 12 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('repeatUsage' as const), ref: fc.nat(20) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('usageBatch' as const),
      events: fc.array(fc.record({ user: member, event: fc.nat(5), amount: fc.integer({ min: 0, max: 8 }) }), { minLength: 1, maxLength: 4 }),
      key,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('replay' as const), ref: fc.nat(20) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      // Mostly short jumps (holds and lots expire now and then), sometimes hours (most of them expire).
      seconds: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 600 }) }, { weight: 1, arbitrary: fc.integer({ min: 600, max: 3 * 3600 }) }),
    }),
  },
);

const policy: fc.Arbitrary<Policy> = fc.record({
  overdraft: fc.constantFrom(0n, 5n * CREDIT),
  poolFallback: fc.boolean(),
  poolDailyLimit: fc.option(fc.constantFrom(5n * CREDIT, 15n * CREDIT), { freq: 2, nil: null }),
});

/**
 * 2-3 members, a start time somewhere in two days (so runs cross UTC midnight), and up to `maxSteps` steps, the
 * first one to three of them grants (without credits, nearly every request would only be refused).
 */
export function scenarioArbitrary(options: { maxSteps?: number } = {}): fc.Arbitrary<Scenario> {
  const maxSteps = options.maxSteps ?? 15;
  return fc.record({
    users: fc.integer({ min: 2, max: 3 }),
    start: fc.integer({ min: 0, max: 48 * 3600 }).map((s) => Date.UTC(2026, 2, 1) + s * 1000),
    policy,
    steps: fc
      .tuple(fc.array(grant, { minLength: 1, maxLength: 3 }), fc.array(step, { maxLength: maxSteps - 3, size: 'max' }))
      .map(([grants, rest]) => [...grants, ...rest]),
  });
}
