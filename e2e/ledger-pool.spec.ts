import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { sectionsNav, signInWithForm } from './support/auth';
import { createLedgerOrg, createUserWithCli, readCredentials } from './support/env';
import { card } from './support/page';

/** The Available cell of a member's row in the Users table. */
function availableOf(page: Page, email: string) {
  return page.getByRole('table', { name: 'Members' }).getByRole('row').filter({ hasText: email }).getByRole('cell').nth(3);
}

test('an admin grants credits, allocates them one by one and in bulk (a bad row failing alone), reclaims and transfers, and reads and filters the ledger', async ({ page }) => {
  test.setTimeout(120_000);
  const { email, password } = readCredentials();
  const tag = randomUUID().slice(0, 8);
  const org = createLedgerOrg(tag, email);
  const first = { email: `alloc-${tag}@example.com`, name: `Alloc ${tag}` };
  const second = { email: `bulk-${tag}@example.com`, name: `Bulk ${tag}` };
  for (const person of [first, second]) {
    createUserWithCli({ org, email: person.email, name: person.name, role: 'member', password: `pw-${randomUUID()}` });
  }
  const reason = `E2E grant ${tag}`;

  await signInWithForm(page, email, password);
  await page.goto(`/${org}/pool`);
  await expect(page.getByRole('heading', { level: 1, name: 'Credit pool' })).toBeVisible();

  // 100 credits into the pool.
  const grant = card(page, 'Grant credits');
  await grant.getByLabel('Amount').fill('100');
  await grant.getByLabel('Reason').fill(reason);
  await grant.getByRole('button', { name: 'Grant credits' }).click();
  await expect(grant.getByRole('status')).toContainText('Granted 100 credits to the pool');
  await expect(page.getByRole('table', { name: 'Pool lots' })).toContainText('Promotion');

  // 10 of them to a member.
  const allocate = card(page, 'Allocate or reclaim');
  await allocate.getByLabel('Member').selectOption({ label: `${first.name} (${first.email})` });
  await allocate.getByLabel('Amount').fill('10');
  await allocate.getByRole('button', { name: 'Allocate', exact: true }).click();
  await expect(allocate.getByRole('status')).toContainText('Allocated 10 credits. The member now has 10 available.');

  // The member's allocation shows on Users.
  await page.goto(`/${org}/users`);
  await expect(availableOf(page, first.email)).toHaveText('10');
  await expect(availableOf(page, second.email)).toHaveText('0');

  // Bulk allocation from a CSV file of three rows, one naming nobody of the org.
  const stranger = `nobody-${tag}@example.com`;
  const csv = `user,amount\n${first.email},2.5\n"${second.email}",1\n${stranger},1\n`;
  await page.getByLabel('CSV file').setInputFiles({ name: 'allocations.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await expect(page.getByText('allocations.csv: 3 rows, 4.5 credits in all (header row skipped).')).toBeVisible();
  await page.getByRole('button', { name: 'Allocate to 3 rows' }).click();
  const progress = page.getByRole('progressbar', { name: 'Progress' });
  await expect(progress).toHaveAttribute('aria-valuenow', '100');
  await expect(page.getByText('100% · 3 of 3 rows')).toBeVisible();
  const results = page.getByRole('table', { name: 'Bulk allocation results' });
  await expect(results.getByRole('row').filter({ hasText: first.email })).toContainText('Allocated · now 12.5 available');
  await expect(results.getByRole('row').filter({ hasText: second.email })).toContainText('Allocated · now 1 available');
  await expect(results.getByRole('row').filter({ hasText: stranger })).toContainText('not found');
  await expect(page.getByText('Done: 2 of 3 rows allocated; 1 failed, see below.')).toBeVisible();
  await expect(availableOf(page, first.email)).toHaveText('12.5');
  await expect(availableOf(page, second.email)).toHaveText('1');

  // Back on the pool: 2 reclaimed from the first member, then 0.5 transferred from them to the second.
  await page.goto(`/${org}/pool`);
  await allocate.getByLabel('Member').selectOption({ label: `${first.name} (${first.email})` });
  await allocate.getByLabel('Amount').fill('2');
  await allocate.getByRole('button', { name: 'Reclaim', exact: true }).click();
  await expect(allocate.getByRole('status')).toContainText('Reclaimed 2 credits. The member now has 10.5 available.');
  const transfer = card(page, 'Transfer');
  await transfer.getByLabel('From').selectOption({ label: `${first.name} (${first.email})` });
  await transfer.getByLabel('To').selectOption({ label: `${second.name} (${second.email})` });
  await transfer.getByLabel('Amount').fill('0.5');
  await transfer.getByLabel('Reason').fill(`Shared ${tag}`);
  await transfer.getByRole('button', { name: 'Transfer credits' }).click();
  await expect(transfer.getByRole('status')).toContainText('Transferred 0.5 credits.');
  await page.goto(`/${org}/users`);
  await expect(availableOf(page, first.email)).toHaveText('10');
  await expect(availableOf(page, second.email)).toHaveText('1.5');

  // The ledger: newest first, each transaction opens to its entries.
  await sectionsNav(page).getByRole('link', { name: 'Ledger', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Ledger' })).toBeVisible();
  const grantItem = page.getByRole('list', { name: 'Transactions' }).getByRole('listitem').filter({ hasText: reason });
  const entries = grantItem.getByRole('table', { name: 'Entries' });
  await expect(entries).toBeHidden();
  await grantItem.locator('summary').click();
  await expect(entries).toBeVisible();
  await expect(entries.getByRole('row').filter({ hasText: 'Pool' })).toContainText('+100');
  await expect(entries.getByRole('row').filter({ hasText: 'Promotions' })).toContainText('-100');

  // Filtered to transfers: the one transfer alone.
  await page.getByLabel('Kind').selectOption({ label: 'Transfer' });
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/kind=transfer/);
  const listed = page.getByRole('list', { name: 'Transactions' }).getByRole('listitem');
  await expect(listed).toHaveCount(1);
  await expect(listed).toContainText(`Shared ${tag}`);
  await page.getByRole('link', { name: 'Clear' }).click();
  await expect(page.getByRole('list', { name: 'Transactions' }).getByRole('listitem').filter({ hasText: reason })).toHaveCount(1);

  // The CSV export downloads the journal, grant included.
  const downloading = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Download CSV' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(new RegExp(`^ledger-${org}-\\d{4}-\\d{2}-\\d{2}\\.csv$`));
  const text = readFileSync(await download.path(), 'utf8');
  const lines = text.split('\r\n');
  expect(lines[0]).toBe('transaction_id,created_at,kind,memo,account,user,amount,lot_id,lot_source,lot_expires_at,occurred_at,model,input_tokens,output_tokens');
  expect(lines.filter((line) => line.includes(`,grant,${reason},pool,,100,`))).toHaveLength(1);
});
