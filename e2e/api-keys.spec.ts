import { randomUUID } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { signInWithForm } from './support/auth';
import { readCredentials } from './support/env';

test('an admin creates an API key, sees it once, and revokes it', async ({ page }) => {
  const { email, password, org } = readCredentials();
  const name = `Backend ${randomUUID().slice(0, 6)}`;
  await signInWithForm(page, email, password);
  await page.goto(`/${org}/api-keys`);

  // No scope ticked: the form says so next to the scopes.
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByRole('checkbox', { name: /meter/ }).uncheck();
  await page.getByRole('button', { name: 'Create key' }).click();
  await expect(page.getByText('Choose at least one scope')).toBeVisible();
  await expect(page.getByRole('group', { name: 'Scopes' })).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue(name);

  await page.getByRole('checkbox', { name: /meter/ }).check();
  await page.getByRole('checkbox', { name: /read/ }).check();
  await page.getByRole('button', { name: 'Create key' }).click();
  const keyField = page.getByRole('textbox', { name: 'API key' });
  await expect(keyField).toHaveValue(/^cr_[A-Za-z0-9_-]{43}$/);
  await expect(page.getByText('Copy this key now')).toBeVisible();
  const key = await keyField.inputValue();

  const row = page.getByRole('table', { name: 'API keys' }).getByRole('row').filter({ hasText: name });
  await expect(row).toContainText(key.slice(0, 12));
  await expect(row).toContainText('meter');
  await expect(row).toContainText('read');
  await expect(row).toContainText('Never');
  await expect(row).toContainText('Active');

  // The clear key is never shown again.
  await page.reload();
  await expect(page.getByRole('textbox', { name: 'API key' })).toHaveCount(0);
  expect(await page.content()).not.toContain(key);

  page.once('dialog', (dialog) => void dialog.accept());
  await row.getByRole('button', { name: `Revoke key ${name}` }).click();
  await expect(row).toContainText('Revoked');
  await expect(row.getByRole('button', { name: /Revoke/ })).toHaveCount(0);
});
