import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from './openapi.ts';

const root = path.resolve(import.meta.dirname, '../..');
const apiDir = path.join(root, 'app/api/v1');
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

type Operation = { responses?: Record<string, unknown>; parameters?: Array<Record<string, unknown>>; description?: string; security?: unknown[] };
type PathItem = Record<string, unknown> & { parameters?: Array<Record<string, unknown>> };
const doc = openApiDocument as unknown as {
  openapi: string;
  paths: Record<string, PathItem>;
  components: Record<string, Record<string, unknown>>;
};

function routeFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return routeFiles(full);
    return entry.name === 'route.ts' ? [full] : [];
  });
}

/** app/api/v1/reservations/[id]/commit/route.ts -> /api/v1/reservations/{id}/commit */
function urlPath(file: string): string {
  const segments = path
    .relative(path.join(root, 'app'), path.dirname(file))
    .split(path.sep)
    .filter((s) => !(s.startsWith('(') && s.endsWith(')')))
    .map((s) => s.replace(/^\[(?:\.\.\.)?(.+)\]$/, '{$1}'));
  return `/${segments.join('/')}`;
}

function exportedMethods(source: string): string[] {
  const found = new Set<string>();
  const declared = /export\s+(?:const|let|async\s+function|function)\s+([A-Z]+)\b/g;
  for (const match of source.matchAll(declared)) found.add(match[1]);
  for (const match of source.matchAll(/export\s*\{([^}]*)\}/g)) {
    for (const name of match[1].split(',')) found.add(name.split(/\s+as\s+/).pop()!.trim());
  }
  return [...found].filter((name) => (METHODS as readonly string[]).includes(name));
}

function operations(): Array<[string, string, Operation]> {
  return Object.entries(doc.paths).flatMap(([p, item]) =>
    Object.entries(item)
      .filter(([method]) => (METHODS as readonly string[]).includes(method.toUpperCase()))
      .map(([method, op]): [string, string, Operation] => [p, method, op as Operation]),
  );
}

function resolve(refValue: string): unknown {
  return refValue
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);
}

function collectRefs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => collectRefs(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else collectRefs(v, out);
    }
  }
  return out;
}

describe('OpenAPI document', () => {
  it('is an OpenAPI 3.1 document with a bearer security scheme', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes).toMatchObject({ apiKey: { type: 'http', scheme: 'bearer' } });
    expect(JSON.parse(JSON.stringify(openApiDocument))).toEqual(openApiDocument);
  });

  it('describes every exported method of every route under app/api/v1', () => {
    const files = routeFiles(apiDir);
    expect(files.length).toBeGreaterThan(10);
    const missing: string[] = [];
    for (const file of files) {
      const methods = exportedMethods(readFileSync(file, 'utf8'));
      expect(methods.length, `${file} exports no handler`).toBeGreaterThan(0);
      for (const method of methods) {
        if (!doc.paths[urlPath(file)]?.[method.toLowerCase()]) missing.push(`${method} ${urlPath(file)}`);
      }
    }
    expect(missing).toEqual([]);
    expect(doc.paths['/api/health']?.get).toBeDefined();
  });

  it('describes no operation that has no route', () => {
    const routes = new Set(
      routeFiles(apiDir).flatMap((f) => exportedMethods(readFileSync(f, 'utf8')).map((m) => `${m} ${urlPath(f)}`)),
    );
    const extra = operations()
      .map(([p, method]) => `${method.toUpperCase()} ${p}`)
      .filter((op) => op !== 'GET /api/health' && !routes.has(op));
    expect(extra).toEqual([]);
  });

  it('gives every operation responses, scopes, the error shape and declared path parameters', () => {
    for (const [p, method, op] of operations()) {
      const where = `${method.toUpperCase()} ${p}`;
      expect(Object.keys(op.responses ?? {}).length, where).toBeGreaterThan(0);
      expect(Object.keys(op.responses ?? {}).some((s) => s.startsWith('2')), where).toBe(true);
      expect(op.description, where).toMatch(/Scopes?: |No authentication/);
      if (op.security?.length !== 0) {
        expect(op.responses?.['401'], where).toBeDefined();
        expect(op.responses?.['403'], where).toBeDefined();
      }
      const params = [...(doc.paths[p].parameters ?? []), ...(op.parameters ?? [])].map(
        (param) => (param.$ref ? resolve(param.$ref as string) : param) as { name: string; in: string },
      );
      for (const [, name] of p.matchAll(/\{([^}]+)\}/g)) {
        expect(params.some((param) => param.in === 'path' && param.name === name), `${where} declares {${name}}`).toBe(true);
      }
      // The proxy follows OpenAI's API: a proxied LLM call takes no Idempotency-Key; an estimate changes nothing.
      const takesKey = params.some((param) => param.in === 'header' && param.name === 'Idempotency-Key');
      const writes = method === 'post' || method === 'put';
      expect(takesKey, where).toBe(writes && !p.startsWith('/api/v1/openai/') && p !== '/api/v1/estimate');
    }
    expect(resolve('#/components/schemas/Error')).toMatchObject({ properties: { error: { $ref: '#/components/schemas/ErrorDetail' } } });
  });

  it('has no dangling references', () => {
    const dangling = collectRefs(doc).filter((r) => resolve(r) === undefined);
    expect(dangling).toEqual([]);
  });
});
