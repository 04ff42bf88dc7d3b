import { describe, expect, it } from 'vitest';
import type { Db } from '../db/client.ts';
import { parseAdminCommand, runAdminCommand } from './admin-commands.ts';

// Usage problems are found before any query: this database throws if touched.
const untouchable = new Proxy({} as Db, {
  get() {
    throw new Error('the database must not be used');
  },
});

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAdminCommand(argv, { db: untouchable, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('admin CLI usage', () => {
  it('prints usage and exits 0 for help', async () => {
    const { code, out } = await run(['help']);
    expect(code).toBe(0);
    expect(out).toContain('api-key create --org SLUG');
  });

  it('exits 2 with a reason and the usage for bad usage', async () => {
    const cases: [string[], string][] = [
      [[], 'No command given'],
      [['org', 'delete'], 'Unknown command: org delete'],
      [['org', 'create', '--slug', 'acme'], 'missing --name'],
      [['user', 'create', '--org', 'acme', '--email', 'a@example.com', '--role', 'king'], '--role must be one of'],
      [['api-key', 'create', '--org', 'acme', '--scope', 'write'], '--scope must be admin, meter or read'],
      [['api-key', 'list', '--org', 'acme', '--colour', 'red'], 'colour'],
    ];
    for (const [argv, reason] of cases) {
      const { code, err } = await run(argv);
      expect(code, argv.join(' ')).toBe(2);
      expect(err).toContain(reason);
      expect(err).toContain('Usage: npm run admin');
    }
  });

  it('accepts several scopes, repeated or comma-separated', () => {
    const parsed = parseAdminCommand(['api-key', 'create', '--org', 'acme', '--scope', 'meter,read', '--scope', 'admin']);
    expect(parsed.kind).toBe('run');
  });
});
