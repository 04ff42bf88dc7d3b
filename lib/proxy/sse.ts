/**
 * Watches an OpenAI server-sent-event stream as it passes through, event by event: remembers the last usage
 * seen, counts the characters of generated text (content, reasoning, tool-call arguments, completion text) for
 * an estimate when the stream stops early, and drops the usage-only chunk the proxy asked for when the client
 * did not ask for it itself (clients that did not ask may not expect a chunk without choices).
 */
import { type TokenUsage, estimateTokensFromChars, usageFromOpenAi } from './usage.ts';

const encoder = new TextEncoder();

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
  private readonly decoder = new TextDecoder();
  private buffer = '';

  constructor(private readonly dropUsageOnlyChunks: boolean) {}

  get estimatedOutputTokens(): number {
    return estimateTokensFromChars(this.generatedChars);
  }

  /** The bytes to pass on for `chunk`: every complete event seen so far, minus dropped ones. */
  push(chunk: Uint8Array): Uint8Array {
    this.buffer += this.decoder.decode(chunk, { stream: true });
    let out = '';
    for (;;) {
      const match = /\r?\n\r?\n/.exec(this.buffer);
      if (!match) break;
      const event = this.buffer.slice(0, match.index + match[0].length);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      if (this.observe(event)) out += event;
    }
    return out ? encoder.encode(out) : new Uint8Array(0);
  }

  /** What is left at the end of the stream (an event without its closing blank line). */
  flush(): Uint8Array {
    const rest = this.buffer + this.decoder.decode();
    this.buffer = '';
    if (!rest) return new Uint8Array(0);
    return this.observe(rest) ? encoder.encode(rest) : new Uint8Array(0);
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
