/**
 * Responses made from a text the server already holds (JSON answers), with that text kept beside them, so the
 * server's direct dispatch (fast-dispatch.ts) writes it as it is instead of reading the response's stream
 * back (arrayBuffer over a web stream: about 5% of a proxied request's CPU). Anything else (Next's router, a
 * test) reads the response as usual.
 */
const bodies = new WeakMap<Response, string>();

/** A standard Response of `text`, whose text the direct dispatch can write without reading it back. */
export function textResponse(text: string, init: ResponseInit): Response {
  const response = new Response(text, init);
  bodies.set(response, text);
  return response;
}

/** `Response.json(data, …)`, with its text kept as textResponse keeps it. */
export function jsonResponse(data: unknown, init: { status?: number; headers?: HeadersInit } = {}): Response {
  const headers = new Headers(init.headers);
  if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  return textResponse(JSON.stringify(data), { status: init.status, headers });
}

/** The text `response` was made from, when made by textResponse or jsonResponse. */
export function knownBody(response: Response): string | undefined {
  return bodies.get(response);
}
