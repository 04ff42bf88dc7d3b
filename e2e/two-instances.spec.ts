/**
 * Deployment: two `npm start` instances on different ports against one DATABASE_URL start together (both
 * migrate under the advisory lock, neither seeds) and both serve sign-in.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { readCredentials } from './support/env.ts';

const ports = [3211, 3212];

async function healthy(port: number, child: ChildProcess, deadline: number): Promise<unknown> {
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`instance on ${port} exited with ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/health`);
      if (res.ok) return res.json();
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`instance on ${port} did not become healthy`);
}

test('two instances against one database start together and both serve', async ({ page }) => {
  test.setTimeout(180_000);
  const { databaseUrl, email } = readCredentials();
  const dataDirs = ports.map(() => mkdtempSync(path.join(os.tmpdir(), 'credits-instance-')));
  const children = ports.map((port, i) =>
    spawn(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'scripts/start.ts'], {
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        PORT: String(port),
        DATA_DIR: dataDirs[i],
        NEXTAUTH_SECRET: 'two-instances-secret-two-instances-secret',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const output = children.map(() => ({ text: '' }));
  children.forEach((child, i) => {
    child.stdout?.on('data', (d) => (output[i].text += String(d)));
    child.stderr?.on('data', (d) => (output[i].text += String(d)));
  });
  try {
    const deadline = Date.now() + 150_000;
    const health = await Promise.all(ports.map((port, i) => healthy(port, children[i], deadline))).catch((err) => {
      throw new Error(`${(err as Error).message}\n--- output ---\n${output.map((o) => o.text).join('\n---\n')}`);
    });
    expect(health).toEqual([
      expect.objectContaining({ status: 'ok', database: 'ok' }),
      expect.objectContaining({ status: 'ok', database: 'ok' }),
    ]);
    for (const [i, port] of ports.entries()) {
      expect(output[i].text).not.toMatch(/error/i);
      // An external database is only migrated, never seeded with demo data.
      expect(output[i].text).not.toContain('Demo admin');
      await page.goto(`http://127.0.0.1:${port}/sign-in`);
      await expect(page.getByLabel('Email')).toBeVisible();
    }
    // Both instances see the same data: the demo admin seeded by the e2e server can sign in on the second one.
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(readCredentials().password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(new RegExp(`127.0.0.1:${ports[1]}/`));
  } finally {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
          }),
      ),
    );
    dataDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
  }
});
