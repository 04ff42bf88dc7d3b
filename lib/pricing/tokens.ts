/**
 * Counting a request's input tokens before the call. OpenAI models are counted with their own encoding
 * (gpt-tokenizer's model map; newer OpenAI models use o200k_base); other families with o200k_base plus the
 * org's margin, since their tokenizers differ and an estimate should rather hold too much than too little.
 * Chat messages add OpenAI's framing: 3 tokens per message, 1 per name, 3 to prime the reply.
 */
import { modelToEncodingMap } from 'gpt-tokenizer/mapping';
import * as openaiModels from 'gpt-tokenizer/models';
import { z } from 'zod';

const part = z.looseObject({ type: z.string(), text: z.string().optional() });

/** A chat message, or a Responses API input item (which may have no role, e.g. a function call's output). */
export const chatMessageSchema = z.looseObject({
  role: z.string().max(100).optional(),
  content: z.union([z.string(), z.array(part), z.null()]).optional(),
  name: z.string().max(200).optional(),
});

export type ChatMessage = z.infer<typeof chatMessageSchema>;

type Encoder = { countTokens: (text: string, options?: { disallowedSpecial?: Set<string> }) => number };
type EncodingName = 'o200k_base' | 'o200k_harmony' | 'cl100k_base' | 'p50k_base' | 'p50k_edit' | 'r50k_base' | 'gpt2';

const loaders: Record<EncodingName, () => Promise<Encoder>> = {
  o200k_base: () => import('gpt-tokenizer/encoding/o200k_base'),
  o200k_harmony: () => import('gpt-tokenizer/encoding/o200k_harmony'),
  cl100k_base: () => import('gpt-tokenizer/encoding/cl100k_base'),
  p50k_base: () => import('gpt-tokenizer/encoding/p50k_base'),
  p50k_edit: () => import('gpt-tokenizer/encoding/p50k_edit'),
  r50k_base: () => import('gpt-tokenizer/encoding/r50k_base'),
  gpt2: () => import('gpt-tokenizer/encoding/gpt2'),
};
const loaded = new Map<EncodingName, Promise<Encoder>>();

function encoder(name: EncodingName): Promise<Encoder> {
  let e = loaded.get(name);
  if (!e) {
    e = loaders[name]();
    loaded.set(name, e);
  }
  return e;
}

const OPENAI_FAMILY = /^(gpt-|o\d|chatgpt-|text-|davinci|babbage|ada|curie|code-|codex-|computer-use-)/;
const specs = openaiModels as unknown as Record<string, { max_output_tokens?: number } | undefined>;

/** The encoding of an OpenAI model (null for other families). */
export function openaiEncoding(model: string): EncodingName | null {
  const mapped = (modelToEncodingMap as Record<string, EncodingName | undefined>)[model];
  if (mapped) return mapped;
  return OPENAI_FAMILY.test(model) ? 'o200k_base' : null;
}

/** The largest output the model may produce, when gpt-tokenizer knows the model. */
export function knownMaxOutputTokens(model: string): number | null {
  return specs[model]?.max_output_tokens ?? null;
}

export type InputText = { messages?: ChatMessage[]; prompt?: string; input?: string | ChatMessage[] };

function messageTexts(messages: ChatMessage[]): { texts: string[]; framing: number } {
  const texts: string[] = [];
  let framing = 3;
  for (const m of messages) {
    framing += 3;
    if (m.role) texts.push(m.role);
    if (typeof m.content === 'string') texts.push(m.content);
    else if (Array.isArray(m.content)) for (const p of m.content) if (p.text) texts.push(p.text);
    for (const field of ['output', 'arguments'] as const) if (typeof m[field] === 'string') texts.push(m[field]);
    if (m.name) {
      framing += 1;
      texts.push(m.name);
    }
    if (m.tool_calls) texts.push(JSON.stringify(m.tool_calls));
  }
  return { texts, framing };
}

/**
 * Input tokens of the text of a request for `model`: exact for OpenAI encodings, o200k_base plus
 * `marginBps` (rounded up) for other families.
 */
export async function countInputTokens(
  model: string,
  text: InputText,
  marginBps: number,
): Promise<{ tokens: number; encoding: EncodingName; margin_bps: number }> {
  const own = openaiEncoding(model);
  const enc = await encoder(own ?? 'o200k_base');
  const asText = { disallowedSpecial: new Set<string>() };
  let count = 0;
  const messages = text.messages ?? (Array.isArray(text.input) ? text.input : undefined);
  if (messages) {
    const { texts, framing } = messageTexts(messages);
    count += framing;
    for (const t of texts) count += enc.countTokens(t, asText);
  }
  if (text.prompt) count += enc.countTokens(text.prompt, asText);
  if (typeof text.input === 'string') count += enc.countTokens(text.input, asText);
  if (own) return { tokens: count, encoding: own, margin_bps: 0 };
  return { tokens: Math.ceil((count * (10_000 + marginBps)) / 10_000), encoding: 'o200k_base', margin_bps: marginBps };
}
