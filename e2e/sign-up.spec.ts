import { randomUUID } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { sectionsNav } from './support/auth';

test('a new user signs up, owns a new organization and lands on its overview', async ({ page }) => {
  const id = randomUUID().slice(0, 8);
  await page.goto('/sign-in');
  await page.getByRole('link', { name: 'Create an organization' }).click();
  await expect(page).toHaveURL(/\/sign-up$/);

  await page.getByLabel('Name', { exact: true }).fill('Sam Founder');
  await page.getByLabel('Email').fill(`founder-${id}@example.com`);
  await page.getByLabel('Password').fill('short');
  await page.getByLabel('Organization name').fill(`Founders ${id}`);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByText('Password must be at least 10 characters')).toBeVisible();
  await expect(page.getByLabel('Password')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Organization name')).toHaveValue(`Founders ${id}`);

  await page.getByLabel('Password').fill(`pw-${randomUUID()}`);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(new RegExp(`/founders-${id}$`));
  await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
  await expect(page.getByRole('button', { name: `Founders ${id}` })).toBeVisible();
  await expect(sectionsNav(page).getByRole('link', { name: 'Settings' })).toBeVisible();
});
