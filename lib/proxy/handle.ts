/**
 * The OpenAI-compatible proxy's request flow: authenticate the API key (scope meter) -> parse the request and
 * name the end user -> choose the upstream -> rate limits and hold of credits, at once -> forward -> settle. A
 * completed call is charged its usage; an upstream failure releases the hold; a client that leaves is charged
 * what was consumed: a call answered in one piece is completed upstream all the same and charged its usage,
 * a stream is ended and charged the usage the upstream sent, else the prompt and an estimate of the output
 * streamed so far. The usage record says `cancelled` for a client that left, and how long the upstream took.
 *
 * Answers carry `x-credits-charged` and `x-credits-remaining` (decimal credits). For JSON answers they are
 * exact: the charge is priced in-process from the usage, by the same prices and rates the hold was sized
 * with, and the answer leaves at once with it and with the balance after the hold plus the part released;
 * that exact charge is committed after the answer (the same usage record and receipt as a commit priced by
 * the ledger), its settlement journaled first (settlement-journal.ts) so that a process dying in between
 * loses nothing. A charge the hold does not cover is committed before the answer (it may be refused), and the
 * headers then show the committed result. A stream's headers leave before its usage is known: there
 * `x-credits-charged` is the hold (the most the call can cost, settled to the real charge when the stream
 * ends, journaled the same way) and `x-credits-remaining` the balance as it was after the hold;
 * `x-credits-reservation` names the hold so the final charge can be looked up.
 *
 * When the credit database cannot be reached, the org's degradation policy applies (degradation.ts).
 */
import { AppError, isAppError } from '../http/errors.ts';
import { jsonResponse, textResponse } from '../http/known-body.ts';
import type { Logger } from '../http/logger.ts';
import { route, type RouteHandler } from '../http/route.ts';
import { formatCredits } from '../money/credits.ts';
import type { DbOrTx } from '../users/create-user.ts';
import type { UpstreamBreakers } from './circuit-breaker.ts';
import { getMetrics } from '../metrics/registry.ts';
import { admitAndHold } from './admit-and-hold.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import type { UnmeteredGuard } from './degradation.ts';
import { ClientAbortedError, forward, type Forwarded, type StreamEnd } from './forward.ts';
import type { MeteredUsage, MeterHold, MeterInfo, MeterQuote, ProxyEndpoint, ProxyMeter } from './meter.ts';
import { listProxyModels } from './models.ts';
import { openAiErrorResponse } from './openai-errors.ts';
import { authenticateProxyRequest } from './proxy-auth.ts';
import type { Admission, RateLimiter } from './rate-limits.ts';
import { parseProxyRequest, type ProxyRequest } from './request.ts';
import { rememberedProxySettings, type ProxySettings } from './settings.ts';
import type { JournalTicket, SettlementJournal } from './settlement-journal.ts';
import { upstreamErrorResponse, usageOfJson } from './upstream-answers.ts';
import { resolveUpstream, type UpstreamSource } from './upstream-routing.ts';
import type { Upstream } from './upstreams.ts';

export type ProxyDeps = {
  db: DbOrTx;
  meter: ProxyMeter;
  limiter: RateLimiter;
  upstreams: UpstreamSource;
  breakers: UpstreamBreakers;
  unmetered: UnmeteredGuard;
  /** Settlements owed after their answer, until they are committed. */
  settlements: SettlementJournal;
  timeoutMs: number;
  /** Output tokens assumed for the token rate limits when a request sets no max_tokens. */
  defaultMaxOutputTokens: number;
};

const upstreamPaths: Record<ProxyEndpoint, string> = {
  'chat.completions': '/chat/completions',
  completions: '/completions',
  embeddings: '/embeddings',
};

const inFlight = new Set<Promise<unknown>>();

/** Resolves when every stream settlement started so far has finished (tests, graceful shutdown). */
export async function settlementsDone(): Promise<void> {
  while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
}

function track(p: Promise<unknown>): void {
  inFlight.add(p);
  p.finally(() => inFlight.delete(p)).catch(() => {});
}

function unavailable(message = 'The credit service is unavailable; try again shortly'): AppError {
  return new AppError('unavailable', message, { retryAfterSeconds: 5 });
}

/** A route handler for one proxy endpoint; `deps` may be a function so wiring happens on first use. */
export function proxyRoute(endpoint: ProxyEndpoint | 'models', deps: ProxyDeps | (() => ProxyDeps)): RouteHandler {
  return route(async (req, { requestId, log }) => {
    try {
      const d = typeof deps === 'function' ? deps() : deps;
      const principal = await authenticateProxyRequest(d.db, req);
      log.setBindings({ orgId: principal.org.id, apiKeyId: principal.apiKey.id });
      if (endpoint === 'models') return jsonResponse(await listProxyModels(d.upstreams, d.breakers, principal.org.id, req.signal, d.timeoutMs));
      const request = parseProxyRequest(await req.text(), endpoint, req.headers.get('x-credits-user'), d.defaultMaxOutputTokens);
      const orgId = principal.org.id;
      const info: MeterInfo = { apiKeyId: principal.apiKey.id, requestId, endpoint };
      const call: Call = { d, req, log, orgId, info, request, upstream: await chooseUpstream(d, orgId, request.model) };
      let settings: ProxySettings;
      try {
        settings = (await rememberedProxySettings(d.db, orgId, info.apiKeyId)).settings;
      } catch (err) {
        throw isDatabaseUnavailable(err) ? unavailable() : err;
      }
      if (principal.fromOutageMemory) return await forwardUnmetered(call, settings, 'api key verified from memory');
      let admitted: { admission: Admission; hold: MeterHold };
      try {
        admitted = await admitAndHold(d, settings.limits, { orgId, apiKeyId: info.apiKeyId, user: request.user }, request, info, log);
        getMetrics().proxyHolds.inc({ outcome: 'held' });
      } catch (err) {
        if (isDatabaseUnavailable(err)) return await forwardUnmetered(call, settings, 'credit database unreachable');
        if (isAppError(err) && (err.code === 'insufficient_credits' || err.code === 'rate_limited')) {
          getMetrics().proxyHolds.inc({ outcome: err.code === 'rate_limited' ? 'rate_limited' : 'refused' });
        }
        throw err;
      }
      d.unmetered.recovered(orgId);
      return await forwardMetered(call, admitted.admission, admitted.hold);
    } catch (err) {
      if (err instanceof ClientAbortedError) return new Response(null, { status: 499 });
      if (!isAppError(err)) log.error({ err }, 'proxy request failed');
      return openAiErrorResponse(err);
    }
  });
}

type Call = { d: ProxyDeps; req: Request; log: Logger; orgId: string; info: MeterInfo; request: ProxyRequest; upstream: Upstream };

async function chooseUpstream(d: ProxyDeps, orgId: string, model: string): Promise<Upstream> {
  let upstream: Upstream | null;
  try {
    upstream = await resolveUpstream(d.upstreams, orgId, model);
  } catch (err) {
    if (!isDatabaseUnavailable(err)) throw err;
    upstream = d.upstreams.defaultUpstream;
  }
  if (!upstream) throw new AppError('not_found', `The model ${model} does not exist or no upstream serves it`, { param: 'model', openaiCode: 'model_not_found' });
  return upstream;
}

function send(call: Call): Promise<Forwarded> {
  return forward({
    upstream: call.upstream,
    path: upstreamPaths[call.info.endpoint],
    method: 'POST',
    body: call.request.body,
    clientSignal: call.req.signal,
    breakers: call.d.breakers,
    timeoutMs: call.d.timeoutMs,
  });
}

function totalTokens(u: MeteredUsage | null): number {
  return u ? u.input_tokens + u.output_tokens : 0;
}

/** What a stream consumed: its usage, else the prompt estimate and the output streamed so far. */
function streamConsumption(call: Call, end: StreamEnd): MeteredUsage {
  return { model: call.request.model, ...(end.usage ?? { input_tokens: call.request.inputEstimate, output_tokens: end.estimatedOutputTokens }) };
}

async function forwardMetered(call: Call, admission: Admission, hold: MeterHold): Promise<Response> {
  const { d, orgId, log } = call;
  const started = performance.now();
  // The request as it ended, for its usage record: how long the upstream took, whether the client left first.
  const ended = (clientLeft = false): MeterInfo => ({ ...call.info, latencyMs: performance.now() - started, clientLeft });
  const cancel = async () => {
    getMetrics().proxySettlements.inc({ outcome: 'released' });
    await d.meter.cancel(orgId, hold.reservationId, ended()).catch((err) => log.error({ err, event: 'proxy.cancel_failed', reservationId: hold.reservationId }, 'could not release a hold'));
  };
  const finishLimits = (tokens: number) => d.limiter.finish(admission, tokens).catch((err) => log.error({ err }, 'could not end a rate-limit admission'));
  const settle = async (usage: MeteredUsage, info: MeterInfo, quote?: MeterQuote, ticket?: JournalTicket | null) => {
    try {
      const settled = await d.meter.settle(orgId, hold.reservationId, usage, info, quote);
      getMetrics().proxySettlements.inc({ outcome: 'charged' });
      ticket?.resolve(true);
      return settled;
    } catch (err) {
      // A refusal is final; anything else leaves the journal line (when there is one) to reconcile. Without a
      // line the hold stays until it expires, and the usage is logged so it can be charged.
      ticket?.resolve(isAppError(err));
      getMetrics().proxySettlements.inc({ outcome: 'failed' });
      log.error({ err, event: 'proxy.settle_failed', reservationId: hold.reservationId, usage }, 'could not settle a proxied request');
      return null;
    }
  };

  let result: Forwarded;
  try {
    result = await send(call);
  } catch (err) {
    await cancel();
    await finishLimits(0);
    throw err;
  }
  if (result.kind === 'upstream_error') {
    await cancel();
    await finishLimits(0);
    return upstreamErrorResponse(result);
  }
  if (result.kind === 'json') {
    const usage: MeteredUsage = { model: call.request.model, ...(result.usage ?? usageOfJson(result.text, call.request.inputEstimate)) };
    const headers = new Headers(result.headers);
    const quote = withinHold(hold, usage);
    const ticket = quote && journal(call, hold, usage, quote);
    // A client that left meanwhile is charged all the same: the upstream did the work.
    const info = ended(call.req.signal.aborted);
    if (quote && ticket) {
      // The answer names the quoted charge at once; the commit of exactly it and the count of the real tokens follow.
      track(settle(usage, info, quote, ticket).then(() => finishLimits(totalTokens(usage))));
      headers.set('x-credits-charged', formatCredits(quote.charged));
      headers.set('x-credits-remaining', formatCredits(quote.remaining));
      return textResponse(result.text, { status: result.status, headers });
    }
    const settled = await settle(usage, info);
    // Counting the real tokens need not delay the answer.
    track(finishLimits(totalTokens(usage)));
    if (settled) {
      headers.set('x-credits-charged', formatCredits(settled.charged));
      headers.set('x-credits-remaining', formatCredits(settled.remaining));
    }
    return textResponse(result.text, { status: result.status, headers });
  }

  const renew = setInterval(() => d.limiter.extend(admission).catch(() => {}), (d.limiter.lease * 1000) / 3);
  renew.unref?.();
  track(
    result.end.then(async (end) => {
      clearInterval(renew);
      if (end.kind === 'completed' || end.kind === 'client_aborted') {
        const usage = streamConsumption(call, end);
        const quote = withinHold(hold, usage) ?? undefined;
        await settle(usage, ended(end.kind === 'client_aborted'), quote, journal(call, hold, usage, quote ?? null));
        await finishLimits(totalTokens(usage));
      } else {
        await cancel();
        await finishLimits(0);
      }
    }),
  );
  const headers = new Headers(result.headers);
  headers.set('x-credits-charged', formatCredits(hold.amount));
  headers.set('x-credits-remaining', formatCredits(hold.remaining));
  headers.set('x-credits-reservation', hold.leaseId ?? hold.reservationId);
  return new Response(result.body, { status: result.status, headers });
}

/** The in-process quote of the usage when it is within the hold (a charge above it may be refused). */
function withinHold(hold: MeterHold, usage: MeteredUsage): MeterQuote | null {
  const quote = hold.quote?.(usage) ?? null;
  return quote && quote.charged <= hold.amount ? quote : null;
}

/** Appends the settlement owed to the journal; null (logged) when it could not be written. */
function journal(call: Call, hold: MeterHold, usage: MeteredUsage, quote: MeterQuote | null): JournalTicket | null {
  try {
    return call.d.settlements.append({
      at: new Date().toISOString(),
      orgId: call.orgId,
      reservationId: hold.reservationId,
      ...(hold.leaseId && { leaseId: hold.leaseId }),
      requestId: call.info.requestId,
      apiKeyId: call.info.apiKeyId,
      endpoint: call.info.endpoint,
      usage,
      quote: quote && { charged: quote.charged.toString(), terms: quote.terms },
    });
  } catch (err) {
    call.log.error({ err, event: 'proxy.settlement_journal_failed', reservationId: hold.reservationId }, 'could not journal a settlement');
    return null;
  }
}

async function forwardUnmetered(call: Call, settings: ProxySettings, reason: string): Promise<Response> {
  const { d, orgId, info, request } = call;
  const priceOffline = d.meter.priceOffline;
  if (settings.degradation !== 'fail_open' || !priceOffline) throw unavailable();
  // The most the request can cost, set aside from the user's allowance before it is forwarded. A model the
  // meter cannot price without the database is refused, as when failing closed.
  const most = priceOffline(orgId, { model: request.model, input_tokens: request.inputEstimate, output_tokens: request.tokenEstimate - request.inputEstimate });
  if (most === null) throw unavailable('The credit service is unavailable and this model cannot be priced without it');
  if (!d.unmetered.take(orgId, request.user, most, settings.failOpenUserCap)) {
    throw unavailable('The credit service is unavailable and this user has used the allowance for unmetered requests');
  }
  // A request that cost nothing (the upstream failed) gives what was set aside back.
  const giveBack = () => d.unmetered.giveBack(orgId, request.user, most);
  const record = (usage: MeteredUsage | null) => {
    const price = usage ? priceOffline(orgId, usage) : null;
    return d.unmetered.record(
      {
        at: new Date().toISOString(),
        requestId: info.requestId,
        orgId,
        apiKeyId: info.apiKeyId,
        user: request.user,
        endpoint: info.endpoint,
        usage,
        price: price === null ? null : price.toString(),
        reason,
      },
      most,
    );
  };
  let result: Forwarded;
  try {
    result = await send(call);
  } catch (err) {
    giveBack();
    throw err;
  }
  if (result.kind === 'upstream_error') {
    giveBack();
    return upstreamErrorResponse(result);
  }
  if (result.kind === 'json') {
    await record({ model: request.model, ...(result.usage ?? usageOfJson(result.text, request.inputEstimate)) });
    const headers = new Headers(result.headers);
    headers.set('x-credits-unmetered', 'true');
    return textResponse(result.text, { status: result.status, headers });
  }
  track(result.end.then((end) => (end.kind === 'completed' || end.kind === 'client_aborted' ? record(streamConsumption(call, end)) : giveBack())));
  const headers = new Headers(result.headers);
  headers.set('x-credits-unmetered', 'true');
  return new Response(result.body, { status: result.status, headers });
}
