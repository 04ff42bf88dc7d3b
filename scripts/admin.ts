/**
 * The admin CLI: `npm run admin -- <command>`. Works against the database `npm start` uses, starting the
 * embedded one temporarily when the server is not running. See lib/cli/admin-commands.ts for the commands.
 */
import { adminUsage, parseAdminCommand, runAdminCommand } from '../lib/cli/admin-commands.ts';
import { openCliDatabase } from '../lib/db/cli-database.ts';

const argv = process.argv.slice(2);
const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<number> {
  const parsed = parseAdminCommand(argv);
  if (parsed.kind === 'help') {
    out(adminUsage);
    return 0;
  }
  if (parsed.kind === 'usage_error') {
    err(parsed.message);
    err(adminUsage);
    return 2;
  }
  let database: Awaited<ReturnType<typeof openCliDatabase>>;
  try {
    database = await openCliDatabase();
  } catch (e) {
    err(`Error: cannot open the database: ${(e as Error).message}`);
    return 1;
  }
  try {
    return await runAdminCommand(argv, { db: database.db, out, err });
  } finally {
    await database.close();
  }
}

// Exit explicitly: the embedded database's exit hook would otherwise end the process with status 0.
main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    err(`Error: ${(e as Error)?.stack ?? String(e)}`);
    process.exit(1);
  },
);
