import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getMetrics } from '../metrics/registry.ts';
import { CallerAbortError, CircuitOpenError, UpstreamBreakers } from './circuit-breaker.ts';
import { startFakeUpstream, type FakeUpstream } from './testing/fake-upstream.ts';

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream();
});
afterAll(() => upstream.close());

const call = () => fetch(`${upstream.baseUrl}/models`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gauge = async (name: string) => (await getMetrics().breakerState.get()).values.find((v) => v.labels.upstream === name)?.value;

describe('UpstreamBreakers', () => {
  it('opens after consecutive failures, answers without calling, probes after the cool-down and closes', async () => {
    const breakers = new UpstreamBreakers({ consecutiveFailures: 3, errorRate: { threshold: 0.9, size: 100, minimumCalls: 100 }, halfOpenAfterMs: 150 });
    upstream.fail({ kind: 'status', status: 502 });
    for (let i = 0; i < 3; i++) expect((await breakers.run('a', call)).status).toBe(502);
    expect(breakers.state('a')).toBe('open');
    expect(await gauge('a')).toBe(2);
    const before = upstream.requests.length;
    await expect(breakers.run('a', call)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(upstream.requests.length).toBe(before);

    await sleep(200);
    expect((await breakers.run('a', call)).status).toBe(502); // the probe fails: open again
    expect(breakers.state('a')).toBe('open');
    upstream.recover();
    await sleep(200);
    expect((await breakers.run('a', call)).status).toBe(200);
    expect(breakers.state('a')).toBe('closed');
    expect(await gauge('a')).toBe(0);
  });

  it('does not judge a call its caller gave up on, and a probe given up on leaves the circuit open', async () => {
    const breakers = new UpstreamBreakers({ consecutiveFailures: 2, errorRate: { threshold: 0.9, size: 100, minimumCalls: 100 }, halfOpenAfterMs: 100 });
    const abandoned = () => Promise.reject(new CallerAbortError('the client went away'));
    for (let i = 0; i < 3; i++) await expect(breakers.run('c', abandoned)).rejects.toBeInstanceOf(CallerAbortError);
    expect(breakers.state('c')).toBe('closed');
    upstream.fail({ kind: 'status', status: 503 });
    for (let i = 0; i < 2; i++) await breakers.run('c', call);
    expect(breakers.state('c')).toBe('open');
    upstream.recover();
    await sleep(150);
    await expect(breakers.run('c', abandoned)).rejects.toBeInstanceOf(CallerAbortError);
    expect(breakers.state('c')).toBe('open');
    await expect(breakers.run('c', call)).rejects.toBeInstanceOf(CircuitOpenError);
    await sleep(150);
    expect((await breakers.run('c', call)).status).toBe(200);
    expect(breakers.state('c')).toBe('closed');
  });

  it('opens on the error rate, counts network errors, and ignores 4xx', async () => {
    const breakers = new UpstreamBreakers({ consecutiveFailures: 100, errorRate: { threshold: 0.5, size: 10, minimumCalls: 10 }, halfOpenAfterMs: 10_000 });
    upstream.fail({ kind: 'status', status: 404 });
    for (let i = 0; i < 12; i++) await breakers.run('b', call);
    expect(breakers.state('b')).toBe('closed');
    upstream.recover();
    // Seven failures among the next ten calls: the rate passes one half before the tenth call.
    let calls = 0;
    while (breakers.state('b') === 'closed' && calls < 10) {
      if (calls % 3 === 0) expect((await breakers.run('b', call)).status).toBe(200);
      else await expect(breakers.run('b', () => fetch('http://127.0.0.1:1/'))).rejects.toThrow(TypeError);
      calls += 1;
    }
    expect(breakers.state('b')).toBe('open');
    expect(calls).toBeLessThanOrEqual(10);
    await expect(breakers.run('b', call)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(breakers.state('unused')).toBe('closed');
  });
});
