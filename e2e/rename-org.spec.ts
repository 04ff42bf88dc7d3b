import { expect, test } from '@playwright/test';
import { sectionsNav, signInWithForm } from './support/auth';
import { readCredentials } from './support/env';

test('the owner renames the organization and the sidebar shows the new name', async ({ page }) => {
  const { email, password, org } = readCredentials();
  await signInWithForm(page, email, password);
  await page.goto(`/${org}/settings`);
  const nameField = page.getByLabel('Name', { exact: true });
  const original = await nameField.inputValue();

  await nameField.fill('');
  await page.getByRole('button', { name: 'Save name' }).click();
  await expect(nameField).toHaveAttribute('aria-invalid', 'true');

  try {
    await nameField.fill(`${original} Labs`);
    await page.getByRole('button', { name: 'Save name' }).click();
    await expect(page.getByText(`The organization is now called ${original} Labs.`)).toBeVisible();
    await page.goto(`/${org}`);
    await expect(page.getByRole('button', { name: `${original} Labs` })).toBeVisible();
    await expect(sectionsNav(page)).toBeVisible();
  } finally {
    await page.goto(`/${org}/settings`);
    await page.getByLabel('Name', { exact: true }).fill(original);
    await page.getByRole('button', { name: 'Save name' }).click();
    await expect(page.getByText(`The organization is now called ${original}.`)).toBeVisible();
  }
});
