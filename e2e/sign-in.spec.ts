import { expect, test } from '@playwright/test';
import { dashboardSections, sectionsNav, signInWithForm } from './support/auth';
import { readCredentials } from './support/env';

test.describe('signing in and out', () => {
  test('a wrong password shows an error and stays on the sign-in page', async ({ page }) => {
    const { email } = readCredentials();
    await page.goto('/sign-in');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('not-the-right-password');
    await page.getByRole('button', { name: 'Sign in' }).click();

    await expect(page.locator('#sign-in-error')).toHaveText('Invalid email or password');
    await expect(page.getByLabel('Password')).toHaveAttribute('aria-describedby', 'sign-in-error');
    await expect(page).toHaveURL(/\/sign-in/);
    await expect(page.getByLabel('Password')).toHaveAttribute('aria-invalid', 'true');
  });

  test('the demo admin reaches the overview, and signing out returns to sign-in', async ({ page }) => {
    const { email, password, org } = readCredentials();
    await signInWithForm(page, email, password);

    await expect(page).toHaveURL(new RegExp(`/${org}$`));
    await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
    await expect(sectionsNav(page).getByRole('link', { name: 'Overview' })).toHaveAttribute('aria-current', 'page');
    await expect(page.getByText('No credits yet')).toBeVisible();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/sign-in/);
    await page.goto(`/${org}`);
    await expect(page).toHaveURL(/\/sign-in/);
  });

  test('signed out, the home page and dashboard pages send you to sign-in', async ({ page }) => {
    const { org } = readCredentials();
    await page.goto('/');
    await expect(page).toHaveURL(/\/sign-in$/);
    await page.goto(`/${org}/users`);
    await expect(page).toHaveURL(/\/sign-in\?callbackUrl=/);
  });

  test('on a phone the sidebar is a menu that opens with its button', async ({ page }) => {
    const { email, password } = readCredentials();
    await page.setViewportSize({ width: 390, height: 844 });
    await signInWithForm(page, email, password);

    const menu = page.getByRole('button', { name: 'Menu' });
    await expect(menu).toHaveAttribute('aria-expanded', 'false');
    await expect(sectionsNav(page)).toBeHidden();
    await menu.click();
    await expect(menu).toHaveAttribute('aria-expanded', 'true');
    await expect(sectionsNav(page).getByRole('link')).toHaveText([...dashboardSections, 'My balance']);

    // Following a link closes the menu; wide tables scroll inside their box instead of widening the page.
    await sectionsNav(page).getByRole('link', { name: 'Users' }).click();
    await expect(page).toHaveURL(/\/users$/);
    await expect(menu).toHaveAttribute('aria-expanded', 'false');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
  });

  test('the skip link is the first stop of the keyboard and moves focus to the content', async ({ page }) => {
    const { email, password, org } = readCredentials();
    await signInWithForm(page, email, password);
    await page.goto(`/${org}/users`);
    await page.keyboard.press('Tab');
    const skip = page.getByRole('link', { name: 'Skip to main content' });
    await expect(skip).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(page.locator('#main-content')).toBeFocused();
  });
});
