/**
 * The TypeScript client of the Credits API for LLM backends: no dependencies and no framework imports, so it
 * can be copied into any project with a global fetch.
 */
export {
  CreditsClient,
  type CallOptions,
  type CreditsClientOptions,
  type ModelReservationOutcome,
  type ReservationOutcome,
} from './credits-client.ts';
export { CreditsApiError, isCreditsApiError, type CreditsErrorCode } from './errors.ts';
export type * from './types.ts';
