import type { Page } from '@playwright/test';

/** A card of the page, found by its heading. */
export function card(page: Page, title: string) {
  return page.locator('section').filter({ has: page.getByRole('heading', { level: 2, name: title, exact: true }) });
}
