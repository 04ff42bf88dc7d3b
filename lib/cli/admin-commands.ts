/**
 * The admin CLI's commands (`npm run admin -- <command>`), kept apart from process concerns so they can be run
 * against a test database. Exit codes: 0 success, 1 the operation failed (the message says why), 2 bad usage.
 * Everything a script may want to capture goes to `out`; `api-key create` prints the key alone on the last
 * line.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { Db } from '../db/client.ts';
import type { ApiKeyScope, Role } from '../generated/prisma/client.ts';
import { type Actor } from '../auth/actor.ts';
import { apiKeyScopeSchema, createApiKey, listApiKeys, revokeApiKey } from '../auth/api-keys.ts';
import { AppError, isAppError } from '../http/errors.ts';
import { createOrg, getOrgBySlug, listOrgs } from '../orgs/orgs.ts';
import { addMembership, createUser } from '../users/create-user.ts';

export type AdminIo = { db: Db; out: (line: string) => void; err: (line: string) => void };

export const adminUsage = `Usage: npm run admin -- <command> [options]

Commands:
  org create --slug SLUG --name NAME
  org list
  user create --org SLUG --email EMAIL --role owner|admin|billing|member [--name NAME] [--password PASSWORD]
      Without --password a random password is generated and printed. An existing user (same email) is
      added to the org instead.
  api-key create --org SLUG --scope admin|meter|read [--scope ...] [--name NAME]
      Prints the new key alone on the last line; it is shown only once.
  api-key list --org SLUG
  api-key revoke --org SLUG --id KEY_ID
  help`;

const roles: readonly Role[] = ['owner', 'admin', 'billing', 'member'];
const systemActor: Actor = { type: 'system' };

type Options = Record<string, string | string[] | undefined>;
type Command = {
  name: string;
  options: Record<string, { type: 'string'; multiple?: boolean }>;
  required: string[];
  /** Usage problems beyond missing options, found before the database is opened. */
  check?: (opts: Options) => string | undefined;
  run: (opts: Options, io: AdminIo) => Promise<void>;
};

const scopeList = (opts: Options): string[] =>
  ((opts.scope as string[] | undefined) ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);

const str = (opts: Options, key: string): string | undefined => {
  const v = opts[key];
  return Array.isArray(v) ? v[v.length - 1] : v;
};

async function findOrgOrThrow(db: Db, slug: string) {
  const org = await getOrgBySlug(db, slug);
  if (!org) throw new AppError('not_found', `Org not found: ${slug}`);
  return org;
}

function formatDate(d: Date | null): string {
  return d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-';
}

const commands: Command[] = [
  {
    name: 'org create',
    options: { slug: { type: 'string' }, name: { type: 'string' } },
    required: ['slug', 'name'],
    async run(opts, { db, out }) {
      const org = await createOrg(db, { slug: str(opts, 'slug')!, name: str(opts, 'name')! }, systemActor);
      out(`Created org ${org.slug} (${org.name})`);
      out(`id: ${org.id}`);
    },
  },
  {
    name: 'org list',
    options: {},
    required: [],
    async run(_opts, { db, out }) {
      const orgs = await listOrgs(db);
      if (orgs.length === 0) {
        out('No orgs yet. Create one with: npm run admin -- org create --slug SLUG --name NAME');
        return;
      }
      for (const org of orgs) {
        out(`${org.slug}\t${org.name}\t${org.memberCount} member${org.memberCount === 1 ? '' : 's'}\t${org.id}`);
      }
    },
  },
  {
    name: 'user create',
    options: {
      org: { type: 'string' },
      email: { type: 'string' },
      role: { type: 'string' },
      name: { type: 'string' },
      password: { type: 'string' },
    },
    required: ['org', 'email', 'role'],
    check: (opts) =>
      roles.includes(str(opts, 'role') as Role) ? undefined : `--role must be one of ${roles.join(', ')}`,
    async run(opts, { db, out }) {
      const role = str(opts, 'role') as Role;
      const org = await findOrgOrThrow(db, str(opts, 'org')!);
      const email = str(opts, 'email')!.trim().toLowerCase();
      const givenPassword = str(opts, 'password');
      const existing = await db.user.findUnique({ where: { email }, select: { id: true, email: true } });
      if (existing) {
        if (givenPassword !== undefined) {
          throw new AppError('conflict', 'A user with this email already exists; --password applies only to new users');
        }
        await addMembership(db, { orgId: org.id, userId: existing.id, role }, systemActor);
        out(`Added existing user ${existing.email} to ${org.slug} as ${role}`);
        out(`id: ${existing.id}`);
        return;
      }
      const password = givenPassword ?? randomBytes(15).toString('base64url');
      const { user } = await createUser(
        db,
        { email, name: str(opts, 'name') ?? null, password, org: { id: org.id, role } },
        systemActor,
      );
      out(`Created user ${user.email} in ${org.slug} as ${role}`);
      out(`id: ${user.id}`);
      if (givenPassword === undefined) out(`password: ${password}`);
    },
  },
  {
    name: 'api-key create',
    options: { org: { type: 'string' }, scope: { type: 'string', multiple: true }, name: { type: 'string' } },
    required: ['org', 'scope'],
    check(opts) {
      const bad = scopeList(opts).find((s) => !apiKeyScopeSchema.safeParse(s).success);
      if (bad !== undefined) return `--scope must be admin, meter or read (got "${bad}")`;
      return scopeList(opts).length === 0 ? 'api-key create: missing --scope' : undefined;
    },
    async run(opts, { db, out }) {
      const scopes = scopeList(opts) as ApiKeyScope[];
      const org = await findOrgOrThrow(db, str(opts, 'org')!);
      const name = str(opts, 'name') ?? `CLI key (${scopes.join(', ')})`;
      const { apiKey, key } = await createApiKey(db, { orgId: org.id, name, scopes }, systemActor);
      out(`Created API key "${apiKey.name}" for ${org.slug} with scopes ${apiKey.scopes.join(', ')}`);
      out(`id: ${apiKey.id}`);
      out('The key is shown only once; store it now:');
      out(key);
    },
  },
  {
    name: 'api-key list',
    options: { org: { type: 'string' } },
    required: ['org'],
    async run(opts, { db, out }) {
      const org = await findOrgOrThrow(db, str(opts, 'org')!);
      const keys = await listApiKeys(db, org.id);
      if (keys.length === 0) {
        out(`No API keys in ${org.slug}.`);
        return;
      }
      out(['id', 'name', 'prefix', 'scopes', 'created', 'last used', 'status'].join('\t'));
      for (const k of keys) {
        out(
          [
            k.id,
            k.name,
            k.prefix,
            k.scopes.join(','),
            formatDate(k.createdAt),
            formatDate(k.lastUsedAt),
            k.revokedAt ? `revoked ${formatDate(k.revokedAt)}` : 'active',
          ].join('\t'),
        );
      }
    },
  },
  {
    name: 'api-key revoke',
    options: { org: { type: 'string' }, id: { type: 'string' } },
    required: ['org', 'id'],
    async run(opts, { db, out }) {
      const org = await findOrgOrThrow(db, str(opts, 'org')!);
      const key = await revokeApiKey(db, org.id, str(opts, 'id')!, systemActor);
      out(`Revoked API key ${key.id} (${key.name}) at ${formatDate(key.revokedAt)}`);
    },
  },
];

export type ParsedAdminCommand =
  | { kind: 'run'; command: Command; options: Options }
  | { kind: 'help' }
  | { kind: 'usage_error'; message: string };

/** Parses argv without touching the database, so bad usage fails fast. */
export function parseAdminCommand(argv: readonly string[]): ParsedAdminCommand {
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  if (args.length === 0) return { kind: 'usage_error', message: 'No command given.' };
  if (['help', '--help', '-h'].includes(args[0]!)) return { kind: 'help' };
  const name = args.slice(0, 2).join(' ');
  const command = commands.find((c) => c.name === name);
  if (!command) return { kind: 'usage_error', message: `Unknown command: ${name}` };
  const rest = args.slice(2);
  if (rest.includes('--help') || rest.includes('-h')) return { kind: 'help' };
  let values: Options;
  try {
    const parsed = parseArgs({ args: rest, options: command.options, strict: true, allowPositionals: false });
    values = parsed.values as Options;
  } catch (e) {
    return { kind: 'usage_error', message: (e as Error).message };
  }
  const missing = command.required.filter((key) => {
    const v = values[key];
    return v === undefined || (Array.isArray(v) ? v.length === 0 : v.trim() === '');
  });
  if (missing.length > 0) {
    return { kind: 'usage_error', message: `${name}: missing ${missing.map((m) => `--${m}`).join(', ')}` };
  }
  const problem = command.check?.(values);
  if (problem) return { kind: 'usage_error', message: problem };
  return { kind: 'run', command, options: values };
}

/** Runs one admin command and returns the process exit code. */
export async function runAdminCommand(argv: readonly string[], io: AdminIo): Promise<number> {
  const parsed = parseAdminCommand(argv);
  if (parsed.kind === 'help') {
    io.out(adminUsage);
    return 0;
  }
  if (parsed.kind === 'usage_error') {
    io.err(parsed.message);
    io.err(adminUsage);
    return 2;
  }
  try {
    await parsed.command.run(parsed.options, io);
    return 0;
  } catch (e) {
    if (isAppError(e)) {
      io.err(`Error: ${e.message}`);
      return 1;
    }
    io.err(`Error: ${(e as Error)?.message ?? String(e)}`);
    return 1;
  }
}
