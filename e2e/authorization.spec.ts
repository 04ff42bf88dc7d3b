import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect, test, type Browser } from '@playwright/test';
import { sectionsNav, signInWithForm } from './support/auth';
import { createUserWithCli, readCredentials, type Role } from './support/env';

/** Each dashboard page, its path under the org and its heading. */
const pages = [
  { section: 'Overview', path: '' },
  { section: 'Credit pool', path: '/pool' },
  { section: 'Ledger', path: '/ledger' },
  { section: 'Users', path: '/users' },
  { section: 'Usage', path: '/usage' },
  { section: 'Models and prices', path: '/models' },
  { section: 'Forecasts', path: '/forecasts' },
  { section: 'Invoices', path: '/invoices' },
  { section: 'Alerts', path: '/alerts' },
  { section: 'API keys', path: '/api-keys' },
  { section: 'Upstreams', path: '/upstreams' },
  { section: 'Settings', path: '/settings' },
] as const;

type Section = (typeof pages)[number]['section'];

/** The permission matrix, written out independently of the code that enforces it. */
const allowed: Record<Role, readonly Section[]> = {
  owner: ['Overview', 'Credit pool', 'Ledger', 'Users', 'Usage', 'Models and prices', 'Forecasts', 'Invoices', 'Alerts', 'API keys', 'Upstreams', 'Settings'],
  admin: ['Overview', 'Credit pool', 'Ledger', 'Users', 'Usage', 'Models and prices', 'Forecasts', 'Alerts', 'API keys', 'Upstreams'],
  billing: ['Overview', 'Credit pool', 'Ledger', 'Usage', 'Models and prices', 'Forecasts', 'Invoices'],
  member: [],
};

const roles: Role[] = ['owner', 'admin', 'billing', 'member'];
const authDir = path.join(process.cwd(), 'test-results', 'auth');
const storageFor = (role: Role) => path.join(authDir, `${role}.json`);

async function saveSignedInState(browser: Browser, role: Role, email: string, password: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signInWithForm(page, email, password);
  await context.storageState({ path: storageFor(role) });
  await context.close();
}

test.beforeAll(async ({ browser }) => {
  test.setTimeout(180_000);
  mkdirSync(authDir, { recursive: true });
  const { email, password, org } = readCredentials();
  await saveSignedInState(browser, 'owner', email, password);
  for (const role of ['admin', 'billing', 'member'] as const) {
    const userEmail = `${role}-${randomUUID().slice(0, 8)}@example.com`;
    const userPassword = `pw-${randomUUID()}`;
    createUserWithCli({ org, email: userEmail, role, password: userPassword, name: `E2E ${role}` });
    await saveSignedInState(browser, role, userEmail, userPassword);
  }
});

for (const role of roles) {
  test(`${role}: every dashboard page follows the permission matrix`, async ({ browser }) => {
    const { org } = readCredentials();
    const context = await browser.newContext({ storageState: storageFor(role) });
    const page = await context.newPage();
    try {
      for (const { section, path: sub } of pages) {
        await page.goto(`/${org}${sub}`);
        if (allowed[role].includes(section)) {
          await expect(page, `${role} may open ${section}`).toHaveURL(new RegExp(`/${org}${sub}$`));
          await expect(page.getByRole('heading', { level: 1, name: section, exact: true })).toBeVisible();
        } else {
          await expect(page, `${role} may not open ${section}`).toHaveURL(/\/forbidden$/);
          await expect(page.getByRole('heading', { name: "You don't have access to this page" })).toBeVisible();
        }
      }

      // The navigation offers exactly the allowed sections, plus the user's own balance.
      await page.goto(`/balance?org=${org}`);
      await expect(page.getByRole('heading', { level: 1, name: 'My balance' })).toBeVisible();
      await expect(sectionsNav(page).getByRole('link')).toHaveText([...allowed[role], 'My balance']);

      // The home page leads to the overview when the role may see it, else to the balance.
      await page.goto('/');
      await expect(page).toHaveURL(allowed[role].includes('Overview') ? new RegExp(`/${org}$`) : /\/balance\?org=/);
    } finally {
      await context.close();
    }
  });
}

test('an org the user is not a member of is not found', async ({ browser }) => {
  const context = await browser.newContext({ storageState: storageFor('admin') });
  const page = await context.newPage();
  try {
    const response = await page.goto(`/no-such-org-${randomUUID().slice(0, 8)}/users`);
    expect(response?.status()).toBe(404);
    await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  } finally {
    await context.close();
  }
});
