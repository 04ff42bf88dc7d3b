import { defineConfig } from 'prisma/config';

// The Prisma CLI reads its connection from here (schema.prisma holds no URL in Prisma 7). `prisma generate`
// needs no database, so an unset DATABASE_URL is fine for it; `prisma migrate deploy` needs one.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: {
    path: 'prisma/migrations',
    seed: 'tsx prisma/seed.ts',
  },
  datasource: {
    url: process.env.DATABASE_URL ?? '',
  },
});
