/**
 * Which upstream serves a model: the org's enabled upstream with the most specific matching pattern (an exact
 * name before any pattern, then longer patterns first, then the oldest), else the configured default. An org's
 * upstreams are remembered for a few seconds so the hot path does not read them on every request; a change
 * made in this process is seen at once (forgetOrgUpstreams), elsewhere within the memory's lifetime.
 */
import type { DbOrTx } from '../users/create-user.ts';
import type { Keyring } from './secret-box.ts';
import { loadEnabledUpstreams, type Upstream } from './upstreams.ts';
import { RefreshingMemory, SETTINGS_STALE_MS } from '../ops/refreshing-memory.ts';

export function matchesModel(pattern: string, model: string): boolean {
  if (!pattern.includes('*')) return pattern === model;
  const regex = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return regex.test(model);
}

function specificity(pattern: string): number {
  return pattern.includes('*') ? pattern.replace(/\*/g, '').length : Number.MAX_SAFE_INTEGER;
}

/** The best upstream of `upstreams` for `model`, or null. */
export function pickUpstream(upstreams: readonly Upstream[], model: string): Upstream | null {
  let best: { upstream: Upstream; score: number } | null = null;
  for (const upstream of upstreams) {
    for (const pattern of upstream.modelPatterns) {
      if (!matchesModel(pattern, model)) continue;
      const score = specificity(pattern);
      if (!best || score > best.score) best = { upstream, score };
    }
  }
  return best?.upstream ?? null;
}

const MEMORY_MS = 5_000;
const remembered = new RefreshingMemory<string, Upstream[]>('org-upstreams', MEMORY_MS, SETTINGS_STALE_MS);

export function forgetOrgUpstreams(orgId?: string): void {
  remembered.forget(orgId);
}

/**
 * The org's enabled upstreams, read at most every few seconds (one read at a time per org; lib/ops/
 * refreshing-memory.ts). When a read fails the last upstreams read are used, so a database outage does not
 * change where requests go.
 */
async function orgUpstreams(db: DbOrTx, keyring: Keyring, orgId: string): Promise<Upstream[]> {
  try {
    return await remembered.get(orgId, () => loadEnabledUpstreams(db, keyring, orgId));
  } catch (err) {
    const last = remembered.last(orgId);
    if (last) return last;
    throw err;
  }
}

export type UpstreamSource = { db: DbOrTx; keyring: Keyring; defaultUpstream: Upstream | null };

/** The upstream for a request of `orgId` for `model`, or null when none serves it. */
export async function resolveUpstream(source: UpstreamSource, orgId: string, model: string): Promise<Upstream | null> {
  const own = pickUpstream(await orgUpstreams(source.db, source.keyring, orgId), model);
  return own ?? source.defaultUpstream;
}

/** The configured default upstream, serving every model. */
export function defaultUpstreamFrom(config: { baseUrl?: string; apiKey?: string }): Upstream | null {
  if (!config.baseUrl) return null;
  return { id: 'default', name: 'default', baseUrl: config.baseUrl.replace(/\/+$/, ''), apiKey: config.apiKey ?? '', modelPatterns: ['*'] };
}

/** Every upstream that may serve the org: its own enabled ones, then the default. */
export async function candidateUpstreams(source: UpstreamSource, orgId: string): Promise<Upstream[]> {
  const own = await orgUpstreams(source.db, source.keyring, orgId);
  return source.defaultUpstream ? [...own, source.defaultUpstream] : own;
}
