import { expect, type Page } from '@playwright/test';

/** Signs in through the form, as a person would, and waits until the app has left the sign-in page. */
export async function signInWithForm(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/sign-in');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).not.toHaveURL(/\/sign-in/);
}

/** The sidebar's list of sections. */
export function sectionsNav(page: Page) {
  return page.getByRole('navigation', { name: 'Sections' });
}

export const dashboardSections = [
  'Overview',
  'Credit pool',
  'Ledger',
  'Users',
  'Usage',
  'Models and prices',
  'Forecasts',
  'Invoices',
  'Alerts',
  'API keys',
  'Upstreams',
  'Settings',
] as const;
