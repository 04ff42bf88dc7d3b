/**
 * A local OpenAI-compatible upstream for tests and benchmarks (LLM providers are unreachable from them):
 * /v1/chat/completions and /v1/completions (streaming and not), /v1/embeddings and /v1/models on
 * 127.0.0.1 with an ephemeral port. Usage is deterministic: a text counts ceil(length / 4) tokens, a reply is
 * `completionTokens` pieces of four characters (capped by max_tokens), one piece per stream chunk. Failures
 * are controllable: an HTTP status for the next requests, hanging without an answer, dropping the connection
 * in the middle of a stream, and latency before the answer.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeUsageOptions = { completionTokens: number; cachedTokens: number; reasoningTokens: number };

export type FakeFailure =
  | { kind: 'status'; status: number; message?: string }
  | { kind: 'hang' }
  | { kind: 'drop'; afterChunks: number };

export type RecordedRequest = { path: string; authorization: string | null; body: Record<string, unknown> };

export type FakeUpstream = {
  /** The API root to configure as an upstream's base URL (ends in /v1). */
  baseUrl: string;
  /** The requests received, oldest first: the last thousand or more (a long benchmark must not fill memory). */
  requests: RecordedRequest[];
  usage: FakeUsageOptions;
  /** Fail the next `count` requests (all of them when omitted) the given way. */
  fail(failure: FakeFailure, count?: number): void;
  recover(): void;
  /** Delay before answering, and between stream chunks. */
  setLatency(beforeMs: number, perChunkMs?: number): void;
  close(): Promise<void>;
};

export function countTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(textOf).join(' ');
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (typeof v.content === 'string' || Array.isArray(v.content)) return textOf(v.content);
    if (typeof v.text === 'string') return v.text;
  }
  return '';
}

/** Requests kept for inspection: between this many and twice as many of the latest. */
const KEEP_REQUESTS = 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function openAiError(res: ServerResponse, status: number, message: string, type = 'server_error') {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message, type, code: null, param: null } }));
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return {};
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
}

export async function startFakeUpstream(options: { apiKey?: string; models?: string[]; usage?: Partial<FakeUsageOptions> } = {}): Promise<FakeUpstream> {
  const models = options.models ?? ['gpt-test', 'gpt-test-mini', 'text-embedding-test'];
  const usage: FakeUsageOptions = { completionTokens: 12, cachedTokens: 0, reasoningTokens: 0, ...options.usage };
  const requests: RecordedRequest[] = [];
  let received = 0;
  let failure: FakeFailure | null = null;
  let failuresLeft = 0;
  let latencyMs = 0;
  let chunkMs = 0;

  const takeFailure = (): FakeFailure | null => {
    if (!failure || failuresLeft <= 0) return null;
    failuresLeft -= 1;
    return failure;
  };

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const body = req.method === 'POST' ? await readBody(req) : {};
      requests.push({ path: url.pathname, authorization: req.headers.authorization ?? null, body });
      received += 1;
      if (requests.length > 2 * KEEP_REQUESTS) requests.splice(0, requests.length - KEEP_REQUESTS);
      if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`) {
        return openAiError(res, 401, 'Incorrect API key provided', 'invalid_request_error');
      }
      const fault = takeFailure();
      if (fault?.kind === 'hang') return; // the client's timeout or abort ends it
      if (latencyMs) await sleep(latencyMs);
      if (fault?.kind === 'status') return openAiError(res, fault.status, fault.message ?? `Upstream failure ${fault.status}`);
      const dropAfter = fault?.kind === 'drop' ? fault.afterChunks : null;
      switch (`${req.method} ${url.pathname}`) {
        case 'GET /v1/models':
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.end(JSON.stringify({ object: 'list', data: models.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'fake' })) }));
        case 'POST /v1/chat/completions':
          return await complete(res, body, 'chat', textOf(body.messages), dropAfter);
        case 'POST /v1/completions':
          return await complete(res, body, 'text', textOf(body.prompt), dropAfter);
        case 'POST /v1/embeddings': {
          const inputs = Array.isArray(body.input) ? body.input : [body.input];
          const promptTokens = inputs.reduce((n: number, i) => n + countTokens(textOf(i)), 0);
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.end(
            JSON.stringify({
              object: 'list',
              model: body.model,
              data: inputs.map((input, index) => ({ object: 'embedding', index, embedding: Array.from({ length: 8 }, (_, k) => ((textOf(input).length + k) % 7) / 7) })),
              usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
            }),
          );
        }
        default:
          return openAiError(res, 404, `No route ${req.method} ${url.pathname}`, 'invalid_request_error');
      }
    } catch (err) {
      if (!res.headersSent) openAiError(res, 500, (err as Error).message);
      else res.destroy();
    }
  });

  function usageFor(promptTokens: number, completionTokens: number) {
    return {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      prompt_tokens_details: { cached_tokens: Math.min(usage.cachedTokens, promptTokens) },
      completion_tokens_details: { reasoning_tokens: Math.min(usage.reasoningTokens, completionTokens) },
    };
  }

  async function complete(res: ServerResponse, body: Record<string, unknown>, kind: 'chat' | 'text', prompt: string, dropAfter: number | null) {
    const maxTokens = Number(body.max_completion_tokens ?? body.max_tokens ?? Infinity);
    const n = Math.max(0, Math.min(usage.completionTokens, maxTokens));
    const promptTokens = countTokens(prompt);
    const id = `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-fake-${received}`;
    const created = Math.floor(Date.now() / 1000);
    const model = body.model;
    if (!body.stream) {
      const content = 'tok '.repeat(n);
      const choice = kind === 'chat' ? { index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' } : { index: 0, text: content, finish_reason: 'stop' };
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ id, object: kind === 'chat' ? 'chat.completion' : 'text_completion', created, model, choices: [choice], usage: usageFor(promptTokens, n) }));
    }
    const object = kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
    const send = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
    const choice = (content: string, finish: string | null) =>
      kind === 'chat' ? { index: 0, delta: content === '' && finish === null ? { role: 'assistant', content } : { content }, finish_reason: finish } : { index: 0, text: content, finish_reason: finish };
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    send({ id, object, created, model, choices: [choice('', null)] });
    for (let i = 0; i < n; i++) {
      if (dropAfter !== null && i >= dropAfter) {
        // Let what was written reach the client first, so the drop happens mid-stream, not before it.
        await new Promise((r) => setTimeout(r, 20));
        return res.destroy();
      }
      if (chunkMs) await sleep(chunkMs);
      if (res.destroyed) return;
      send({ id, object, created, model, choices: [choice('tok ', null)] });
    }
    send({ id, object, created, model, choices: [choice('', 'stop')] });
    const options = body.stream_options as { include_usage?: boolean } | undefined;
    if (options?.include_usage) send({ id, object, created, model, choices: [], usage: usageFor(promptTokens, n) });
    res.end('data: [DONE]\n\n');
  }

  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    usage,
    fail(f, count = Number.POSITIVE_INFINITY) {
      failure = f;
      failuresLeft = count;
    },
    recover() {
      failure = null;
      failuresLeft = 0;
    },
    setLatency(beforeMs, perChunkMs = 0) {
      latencyMs = beforeMs;
      chunkMs = perChunkMs;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
