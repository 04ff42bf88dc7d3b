/** Estimates at the API: credits as decimal strings, prices in USD per million tokens as decimal strings. */
import { formatCredits } from '../money/credits.ts';
import type { ChargeBreakdown } from './calculate.ts';
import type { Estimate } from './estimate.ts';

export type EstimateDto = Omit<Estimate, 'amount' | 'breakdown'> & { amount: string; breakdown: ChargeBreakdown };

export function estimateDto(estimate: Estimate): EstimateDto {
  return { ...estimate, amount: formatCredits(estimate.amount) };
}
