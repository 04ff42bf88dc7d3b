/**
 * Configuration, validated once with zod. Domain code never reads process.env: edges read `getEnv()` and pass
 * values in. A bad variable fails start-up with one clear line per problem.
 */
import { z } from 'zod';

const optionalUrl = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .pipe(z.string().url().optional())
  .optional();

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** PostgreSQL connection string. Unset: `npm start` runs an embedded server in DATA_DIR. */
  DATABASE_URL: optionalUrl,
  /** Where the embedded database, the generated secrets and the demo credentials live. */
  DATA_DIR: z.string().trim().min(1).default('./.data'),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  /** Public base URL, used in invitation links and auth callbacks. */
  NEXTAUTH_URL: optionalUrl,
  /** Secret for session tokens; `npm start` generates and keeps one in DATA_DIR when unset. */
  NEXTAUTH_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  GITHUB_ID: optionalString,
  GITHUB_SECRET: optionalString,
  GOOGLE_CLIENT_ID: optionalString,
  GOOGLE_CLIENT_SECRET: optionalString,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Lifetime of invitation links, in hours. */
  INVITATION_TTL_HOURS: z.coerce.number().int().min(1).max(24 * 90).default(24 * 7),
  /** Size of the database connection pool of one app process. */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /** Batches of one org's ledger operations in the database at once, per app process (see coalescer.ts). */
  LEDGER_LANES: z.coerce.number().int().min(1).max(64).default(1),
  /**
   * How the proxy counts rate limits: `claimed` (each instance claims shares of a limit and admits from them in
   * memory; claimed-rate-limits.ts) or `counted` (every request counted in the database; rate-limits.ts).
   */
  PROXY_RATE_LIMITS: z.enum(['claimed', 'counted']).default('claimed'),
  /** Bearer token for GET /api/metrics. Unset: metrics are served to loopback only. */
  METRICS_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  /** The proxy's default OpenAI-compatible upstream (orgs may add their own in the dashboard). */
  LLM_UPSTREAM_BASE_URL: optionalUrl,
  LLM_UPSTREAM_API_KEY: optionalString,
  /**
   * Key that encrypts stored upstream API keys: 32 bytes as base64 or hex. Unset: a key generated and kept in
   * DATA_DIR.
   */
  CREDITS_MASTER_KEY: optionalString.pipe(
    z
      .string()
      .refine((v) => /^[0-9a-fA-F]{64}$/.test(v) || Buffer.from(v, 'base64').length === 32, 'must be 32 bytes in base64 or hex')
      .optional(),
  ),
  /** Master keys used before CREDITS_MASTER_KEY, comma-separated: values they sealed still open. */
  CREDITS_MASTER_KEY_PREVIOUS: optionalString,
});

export type Env = z.infer<typeof envSchema>;

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'EnvError';
  }
}

/** Parses an environment; throws EnvError naming every bad variable. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    throw new EnvError(result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const env = result.data;
  if (Boolean(env.GITHUB_ID) !== Boolean(env.GITHUB_SECRET)) {
    throw new EnvError(['GITHUB_ID and GITHUB_SECRET: set both or neither']);
  }
  if (Boolean(env.GOOGLE_CLIENT_ID) !== Boolean(env.GOOGLE_CLIENT_SECRET)) {
    throw new EnvError(['GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET: set both or neither']);
  }
  return env;
}

let cached: Env | undefined;

/** The process's configuration, parsed on first use. */
export function getEnv(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}
