/** What the e2e server wrote for the specs: the demo admin's sign-in and the database it seeded. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export type E2eCredentials = { email: string; password: string; org: string; databaseUrl: string; baseUrl?: string };

const credentialsFile = path.join(process.cwd(), 'test-results', 'e2e-credentials.json');

/** Read when a test runs, not at import: the server writes the file after the specs are collected. */
export function readCredentials(): E2eCredentials {
  return JSON.parse(readFileSync(credentialsFile, 'utf8')) as E2eCredentials;
}

export type Role = 'owner' | 'admin' | 'billing' | 'member';

/** Runs the admin CLI against the e2e database; returns what it printed. */
export function runAdminCli(args: string[]): string {
  return execFileSync('npx', ['tsx', 'scripts/admin.ts', ...args], {
    env: { ...process.env, DATABASE_URL: readCredentials().databaseUrl },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * A fresh org of the demo admin for one journey, so its credits stay out of the demo org that other journeys
 * expect to be empty. Named to sort after the demo org, which stays the admin's home.
 */
export function createLedgerOrg(tag: string, adminEmail: string): string {
  const slug = `ledger-${tag}`;
  runAdminCli(['org', 'create', '--slug', slug, '--name', `Zz Ledger ${tag}`]);
  runAdminCli(['user', 'create', '--org', slug, '--email', adminEmail, '--role', 'owner']);
  return slug;
}

/** Creates a user in the org with the admin CLI, against the e2e database; returns the new user's id. */
export function createUserWithCli(input: { org: string; email: string; role: Role; password: string; name: string }): string {
  const output = runAdminCli([
    'user',
    'create',
    '--org',
    input.org,
    '--email',
    input.email,
    '--role',
    input.role,
    '--password',
    input.password,
    '--name',
    input.name,
  ]);
  const id = /^id: (\S+)$/m.exec(output)?.[1];
  if (!id) throw new Error(`admin CLI did not print a user id:\n${output}`);
  return id;
}
