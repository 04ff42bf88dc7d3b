import { describe, expect, it } from 'vitest';
import { AppError } from './errors.ts';
import { readIdempotency } from './idempotency.ts';

const request = (key: string | null, path = '/api/v1/grants', method = 'POST') =>
  new Request(`http://localhost${path}`, { method, headers: key === null ? {} : { 'idempotency-key': key } });

describe('readIdempotency', () => {
  it('is undefined without the header', () => {
    expect(readIdempotency(request(null), { amount: '1' })).toBeUndefined();
  });

  it('namespaces the key and hashes method, path and the canonical body', () => {
    const a = readIdempotency(request('k-1'), { amount: 1_000_000n, reason: 'x' });
    const b = readIdempotency(request('k-1'), { reason: 'x', amount: 1_000_000n, absent: undefined });
    expect(a).toEqual({ key: 'api:k-1', hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(b).toEqual(a);
    expect(readIdempotency(request('k-1'), { amount: 2_000_000n, reason: 'x' })!.hash).not.toBe(a!.hash);
    expect(readIdempotency(request('k-1', '/api/v1/allocations'), { amount: 1_000_000n, reason: 'x' })!.hash).not.toBe(a!.hash);
    expect(readIdempotency(request('k-1', '/api/v1/grants', 'PUT'), { amount: 1_000_000n, reason: 'x' })!.hash).not.toBe(a!.hash);
  });

  it('accepts 1 to 255 printable ASCII characters and refuses others with 400 bad_request', () => {
    expect(readIdempotency(request('x'.repeat(255)), {})!.key).toBe(`api:${'x'.repeat(255)}`);
    expect(readIdempotency(request('a b~!'), {})!.key).toBe('api:a b~!');
    for (const bad of ['', 'x'.repeat(256), 'tab\there', 'é']) {
      let caught: unknown;
      try {
        readIdempotency(request(bad), {});
      } catch (err) {
        caught = err;
      }
      expect(caught, JSON.stringify(bad)).toBeInstanceOf(AppError);
      expect((caught as AppError).code).toBe('bad_request');
      expect((caught as AppError).status).toBe(400);
    }
  });
});
