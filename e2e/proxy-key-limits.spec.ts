import { randomUUID } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { signInWithForm } from './support/auth';
import { createLedgerOrg, readCredentials, runAdminCli } from './support/env';

test('an admin gives one API key its own proxy rate limit, which the proxy applies at once, then removes it', async ({ page, request }) => {
  test.setTimeout(90_000);
  const { email, password } = readCredentials();
  const tag = randomUUID().slice(0, 8);
  const org = createLedgerOrg(`limits-${tag}`, email);
  const key = runAdminCli(['api-key', 'create', '--org', org, '--scope', 'admin', '--name', `Batch ${tag}`]).trim().split('\n').pop()!;
  const auth = { authorization: `Bearer ${key}` };
  const user = `dev-${tag}`;
  expect((await request.post('/api/v1/users', { headers: auth, data: { external_id: user } })).status()).toBe(201);
  expect((await request.post('/api/v1/grants', { headers: auth, data: { user, amount: '50', reason: 'Limits journey' } })).status()).toBe(201);

  await signInWithForm(page, email, password);
  await page.goto(`/${org}/upstreams`);
  const card = page.locator('section', { has: page.getByRole('heading', { name: 'Limits for one API key' }) });
  const option = card.getByRole('option', { name: new RegExp(`^Batch ${tag} `) });
  await card.getByLabel('API key').selectOption((await option.getAttribute('value'))!);
  await card.getByLabel('Requests per minute').fill('1');
  await card.getByRole('button', { name: 'Save limits of the key' }).click();
  await expect(card.getByText('Limits of the key saved.')).toBeVisible();
  const row = card.getByRole('row', { name: new RegExp(`Batch ${tag}`) });
  await expect(row.getByRole('cell').nth(1)).toHaveText('1');

  // One request a minute for this key: the second is refused with 429 and Retry-After.
  const call = () =>
    request.post('/api/v1/openai/chat/completions', {
      headers: auth,
      data: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 2, user },
    });
  expect((await call()).status()).toBe(200);
  const refused = await call();
  expect(refused.status()).toBe(429);
  expect(Number(refused.headers()['retry-after'])).toBeGreaterThan(0);

  page.once('dialog', (dialog) => dialog.accept());
  await row.getByRole('button', { name: `Remove the limits of key Batch ${tag}` }).click();
  await expect(card.getByRole('row', { name: new RegExp(`Batch ${tag}`) })).toHaveCount(0);
});
