/**
 * A circuit breaker per upstream (cockatiel): it opens after `consecutiveFailures` failures in a row or when
 * more than `errorRate.threshold` of the last `errorRate.size` calls failed, answers at once while open, lets
 * one probe through after `halfOpenAfterMs`, and closes when the probe succeeds. A failure is a network error,
 * a timeout or a 5xx answer; a 4xx is the caller's mistake and counts as a success, and a call its caller gave
 * up on (CallerAbortError: the client went away) is not judged at all. Only the part of a call up to the
 * upstream's response headers is judged (a stream that breaks later is reported in metrics, not here). A
 * half-open probe its caller gave up on proves nothing either, so the circuit opens again for another
 * cool-down (cockatiel would close it on an error its policy does not handle). States
 * are exported to the metrics gauge. Breakers are per process.
 */
import {
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  CountBreaker,
  handleWhen,
  isBrokenCircuitError,
  type CircuitBreakerPolicy,
  type IBreaker,
} from 'cockatiel';
import { getMetrics } from '../metrics/registry.ts';

export type BreakerOptions = {
  consecutiveFailures: number;
  errorRate: { threshold: number; size: number; minimumCalls: number };
  halfOpenAfterMs: number;
};

export const defaultBreakerOptions: BreakerOptions = {
  consecutiveFailures: 5,
  errorRate: { threshold: 0.5, size: 50, minimumCalls: 20 },
  halfOpenAfterMs: 10_000,
};

/** Opens when either of its breakers would. */
class EitherBreaker implements IBreaker {
  constructor(private readonly breakers: IBreaker[]) {}
  get state(): unknown {
    return this.breakers.map((b) => b.state);
  }
  set state(value: unknown) {
    (value as unknown[]).forEach((v, i) => (this.breakers[i].state = v));
  }
  success(state: CircuitState): void {
    for (const b of this.breakers) b.success(state);
  }
  failure(state: CircuitState): boolean {
    return this.breakers.map((b) => b.failure(state)).some(Boolean);
  }
}

/** Thrown instead of calling an upstream whose breaker is open. */
export class CircuitOpenError extends Error {
  constructor(readonly upstream: string) {
    super(`Upstream ${upstream} is unavailable (circuit open)`);
    this.name = 'CircuitOpenError';
  }
}

const gaugeValue: Record<CircuitState, number> = {
  [CircuitState.Closed]: 0,
  [CircuitState.HalfOpen]: 1,
  [CircuitState.Open]: 2,
  [CircuitState.Isolated]: 2,
};

export type BreakerStateName = 'closed' | 'half_open' | 'open';
const stateNames: Record<CircuitState, BreakerStateName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Open]: 'open',
  [CircuitState.Isolated]: 'open',
};

/** A call ended by its caller, not by the upstream: it says nothing of the upstream's health. */
export class CallerAbortError extends Error {}

function isServerError(result: unknown): boolean {
  if (!result || typeof result !== 'object') return false;
  const r = result as { status?: unknown; statusCode?: unknown };
  const status = typeof r.status === 'number' ? r.status : r.statusCode;
  return typeof status === 'number' && status >= 500;
}

export class UpstreamBreakers {
  private readonly policies = new Map<string, CircuitBreakerPolicy>();

  constructor(private readonly options: BreakerOptions = defaultBreakerOptions) {}

  private policy(upstream: string): CircuitBreakerPolicy {
    let policy = this.policies.get(upstream);
    if (!policy) {
      const { consecutiveFailures, errorRate, halfOpenAfterMs } = this.options;
      const judged = (err: Error) => !(err instanceof CallerAbortError) || this.policies.get(upstream)?.state === CircuitState.HalfOpen;
      policy = circuitBreaker(handleWhen(judged).orWhenResult(isServerError), {
        halfOpenAfter: halfOpenAfterMs,
        breaker: new EitherBreaker([
          new ConsecutiveBreaker(consecutiveFailures),
          new CountBreaker({ threshold: errorRate.threshold, size: errorRate.size, minimumNumberOfCalls: errorRate.minimumCalls }),
        ]),
      });
      const gauge = getMetrics().breakerState;
      gauge.set({ upstream }, 0);
      policy.onStateChange((state) => gauge.set({ upstream }, gaugeValue[state]));
      this.policies.set(upstream, policy);
    }
    return policy;
  }

  state(upstream: string): BreakerStateName {
    const policy = this.policies.get(upstream);
    return policy ? stateNames[policy.state] : 'closed';
  }

  /**
   * Runs `call` through the upstream's breaker; throws CircuitOpenError without calling it when open. An
   * answer with a 5xx status (a Response, or Node's answer with its statusCode) counts as a failure.
   */
  async run<T>(upstream: string, call: () => Promise<T>): Promise<T> {
    try {
      return await this.policy(upstream).execute(call);
    } catch (err) {
      if (isBrokenCircuitError(err)) throw new CircuitOpenError(upstream);
      throw err;
    }
  }
}
