/**
 * The global catalog's source: the price data bundled with @pydantic/genai-prices (providers, their models
 * with match rules, prices per million tokens, long-context tiers, per-request fees), turned into rows of
 * exact nano-USD prices. The current price of each model is taken as of the seeding time: of dated price
 * lists, the latest that has started; time-of-day discounts are not modelled (the regular price applies).
 * Models priced by input tokens alone (embeddings, rerankers: the data gives them no output price) get an output
 * price of zero. Models without an input price per token (image, audio), or whose match rule is not one this
 * module understands, are left out.
 */
import { waitForUpdate, type ConditionalPrice, type ModelPrice as SourcePrice } from '@pydantic/genai-prices';
import { matchRuleSchema, type MatchRule } from './match.ts';
import { usdNumberToNano } from './usd.ts';

/**
 * Which models this module takes from the data; a change makes a new catalog version (effective from when it
 * is seeded) even for the same release of the data.
 */
export const CATALOG_RULES = 2;

/** Names the catalog release (pinned in package.json) and import rules a global price version was seeded from. */
export const CATALOG_KEY = `genai-prices@0.1.8/${CATALOG_RULES}`;

/** Providers whose prices are the model maker's own: preferred when several providers match a name. */
const FIRST_PARTY = new Set([
  'openai',
  'anthropic',
  'google',
  'mistral',
  'deepseek',
  'x-ai',
  'cohere',
  'moonshotai',
  'minimax',
  'zai',
  'zhipuai',
  'perplexity',
  'arcee',
]);

export type PriceTier = {
  start: number;
  input: string;
  output: string;
  cache_read?: string;
  cache_write?: string;
};

export type CatalogRow = {
  provider: string;
  model: string;
  match: MatchRule;
  priority: number;
  position: number;
  inputNano: bigint;
  outputNano: bigint;
  cacheReadNano: bigint | null;
  cacheWriteNano: bigint | null;
  reasoningNano: bigint | null;
  tiers: PriceTier[];
  requestFeeNano: bigint;
  contextWindow: number | null;
};

type Tiered = { base: number; tiers: Array<{ start: number; price: number }> };
type Field = number | Tiered | undefined;

function currentPrices(prices: ConditionalPrice[] | SourcePrice, at: Date): SourcePrice {
  if (!Array.isArray(prices)) return prices;
  let chosen = prices.find((p) => !p.constraint)?.prices ?? prices[0].prices;
  let chosenStart = -Infinity;
  for (const p of prices) {
    if (p.constraint?.type !== 'start_date') continue;
    const start = Date.parse(p.constraint.start_date);
    if (start <= at.getTime() && start > chosenStart) {
      chosen = p.prices;
      chosenStart = start;
    }
  }
  return chosen;
}

function base(field: Field): number | undefined {
  if (field === undefined) return undefined;
  return typeof field === 'number' ? field : field.base;
}

/** The field's price for a request of more than `start` input tokens. */
function priceAbove(field: Field, start: number): number | undefined {
  if (field === undefined || typeof field === 'number') return field;
  let price = field.base;
  for (const t of field.tiers) if (start >= t.start) price = t.price;
  return price;
}

function positiveNano(value: number | undefined): bigint | null {
  if (value === undefined) return null;
  const nano = usdNumberToNano(value);
  return nano > 0n ? nano : null;
}

function tiersOf(p: SourcePrice): PriceTier[] {
  const fields = [p.input_mtok, p.output_mtok, p.cache_read_mtok, p.cache_write_mtok] as Field[];
  const starts = new Set<number>();
  for (const f of fields) if (f && typeof f === 'object') for (const t of f.tiers) starts.add(t.start);
  return [...starts]
    .sort((a, b) => a - b)
    .map((start) => {
      const nano = (f: Field) => positiveNano(priceAbove(f, start))?.toString();
      const tier: PriceTier = {
        start,
        input: nano(p.input_mtok as Field) ?? '0',
        output: nano(p.output_mtok as Field) ?? '0',
      };
      const read = nano(p.cache_read_mtok as Field);
      const write = nano(p.cache_write_mtok as Field);
      if (read) tier.cache_read = read;
      if (write) tier.cache_write = write;
      return tier;
    })
    .filter((t) => t.input !== '0' && t.output !== '0');
}

/** Every priced model of the bundled data as catalog rows, in preference order. */
export async function loadCatalogRows(at: Date): Promise<CatalogRow[]> {
  const providers = (await waitForUpdate()) ?? [];
  const rows: CatalogRow[] = [];
  for (const provider of providers) {
    for (const model of provider.models) {
      const p = currentPrices(model.prices, at);
      const inputNano = positiveNano(base(p.input_mtok as Field));
      const outputNano = positiveNano(base(p.output_mtok as Field)) ?? 0n;
      const match = matchRuleSchema.safeParse(model.match);
      if (!inputNano || !match.success) continue;
      const requestsPerK = typeof p.requests_kcount === 'number' ? usdNumberToNano(p.requests_kcount) : 0n;
      rows.push({
        provider: provider.id,
        model: model.id,
        match: match.data,
        priority: FIRST_PARTY.has(provider.id) ? 0 : 1,
        position: rows.length,
        inputNano,
        outputNano,
        cacheReadNano: positiveNano(base(p.cache_read_mtok as Field)),
        cacheWriteNano: positiveNano(base(p.cache_write_mtok as Field)),
        reasoningNano: positiveNano(base(p.output_reasoning_mtok as Field)),
        tiers: tiersOf(p),
        // USD per thousand requests -> nano-USD per request, rounded up.
        requestFeeNano: (requestsPerK + 999n) / 1000n,
        contextWindow: model.context_window ?? null,
      });
    }
  }
  // Preference order: the makers' own prices first, then resellers, each in the data's order.
  return rows.sort((a, b) => a.priority - b.priority || a.position - b.position).map((r, i) => ({ ...r, position: i }));
}
