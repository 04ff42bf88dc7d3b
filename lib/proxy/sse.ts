/**
 * Watches an OpenAI server-sent-event stream as it passes through, event by event: remembers the last usage
 * seen, counts the characters of generated text (content, reasoning, tool-call arguments, completion text) for
 * an estimate when the stream stops early, and drops the usage-only chunk the proxy asked for when the client
 * did not ask for it itself (clients that did not ask may not expect a chunk without choices).
 *
 * The bytes passed on are the upstream's own (up to the end of the last complete event), unless an event is
 * dropped: nothing is encoded again on the way.
 */
import { type TokenUsage, estimateTokensFromChars, usageFromOpenAi } from './usage.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const NOTHING = new Uint8Array(0);
const LF = 0x0a;
const CR = 0x0d;

/** Where the last complete event of `bytes` ends (after its blank line), or 0 when none does. */
function lastEventEnd(bytes: Uint8Array): number {
  for (let i = bytes.length - 1; i > 0; i--) {
    if (bytes[i] !== LF) continue;
    if (bytes[i - 1] === LF || (bytes[i - 1] === CR && i > 1 && bytes[i - 2] === LF)) return i + 1;
  }
  return 0;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function deltaChars(choice: Record<string, unknown>): number {
  let n = typeof choice.text === 'string' ? choice.text.length : 0;
  const delta = choice.delta as Record<string, unknown> | undefined;
  if (delta) {
    for (const key of ['content', 'reasoning_content', 'reasoning', 'refusal']) {
      if (typeof delta[key] === 'string') n += (delta[key] as string).length;
    }
    if (Array.isArray(delta.tool_calls)) {
      for (const call of delta.tool_calls as Record<string, unknown>[]) {
        const fn = call.function as Record<string, unknown> | undefined;
        if (typeof fn?.name === 'string') n += fn.name.length;
        if (typeof fn?.arguments === 'string') n += fn.arguments.length;
      }
    }
  }
  return n;
}

export class SseObserver {
  usage: TokenUsage | null = null;
  generatedChars = 0;
  sawDone = false;
  /** Bytes of an event not complete yet. */
  private pending: Uint8Array = NOTHING;

  constructor(private readonly dropUsageOnlyChunks: boolean) {}

  get estimatedOutputTokens(): number {
    return estimateTokensFromChars(this.generatedChars);
  }

  /** The bytes to pass on for `chunk`: every complete event seen so far, minus dropped ones. */
  push(chunk: Uint8Array): Uint8Array {
    const bytes = this.pending.length > 0 ? concat(this.pending, chunk) : chunk;
    const end = lastEventEnd(bytes);
    // A copy (Buffer's own slice would share the chunk's memory): the rest of an event is small, and the
    // chunk it came in need not stay in memory for it.
    this.pending = end < bytes.length ? Uint8Array.prototype.slice.call(bytes, end) : NOTHING;
    if (end === 0) return NOTHING;
    // Complete events end with a line feed, so they never end inside a multi-byte character.
    const complete = bytes.subarray(0, end);
    const text = decoder.decode(complete);
    const separator = /\r?\n\r?\n/g;
    let kept = '';
    let dropped = false;
    let start = 0;
    for (let match = separator.exec(text); match; match = separator.exec(text)) {
      const event = text.slice(start, separator.lastIndex);
      start = separator.lastIndex;
      if (this.observe(event)) kept += event;
      else dropped = true;
    }
    if (!dropped) return complete;
    return kept ? encoder.encode(kept) : NOTHING;
  }

  /** What is left at the end of the stream (an event without its closing blank line). */
  flush(): Uint8Array {
    const rest = this.pending;
    this.pending = NOTHING;
    if (rest.length === 0) return NOTHING;
    return this.observe(decoder.decode(rest)) ? rest : NOTHING;
  }

  /** Records what the event says; false when it is to be dropped. */
  private observe(event: string): boolean {
    const data = event
      .split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''))
      .join('\n');
    if (!data) return true;
    if (data.trim() === '[DONE]') {
      this.sawDone = true;
      return true;
    }
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return true;
    }
    const choices = Array.isArray(parsed.choices) ? (parsed.choices as Record<string, unknown>[]) : [];
    for (const choice of choices) this.generatedChars += deltaChars(choice);
    const usage = usageFromOpenAi(parsed.usage);
    if (usage) this.usage = usage;
    return !(this.dropUsageOnlyChunks && usage && choices.length === 0);
  }
}
