import { randomUUID } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { signInWithForm } from './support/auth';
import { createLedgerOrg, createUserWithCli, readCredentials, runAdminCli } from './support/env';
import { card } from './support/page';

test('a member sees their own allocation and charges with their receipts on My balance, and cannot open the pool or the ledger', async ({ page, browser, request }) => {
  test.setTimeout(120_000);
  const { email: adminEmail, password: adminPassword } = readCredentials();
  const tag = randomUUID().slice(0, 8);
  const org = createLedgerOrg(tag, adminEmail);
  const member = { email: `balance-${tag}@example.com`, password: `pw-${randomUUID()}`, name: `Balance ${tag}` };
  const memberId = createUserWithCli({ org, ...member, role: 'member' });

  // The admin grants credits that expire in three days and allocates 7.5 of them to the member.
  await signInWithForm(page, adminEmail, adminPassword);
  await page.goto(`/${org}/pool`);
  const grant = card(page, 'Grant credits');
  await grant.getByLabel('Amount').fill('20');
  await grant.getByLabel('Reason').fill(`Balance spec ${tag}`);
  await grant.getByLabel('Priority').fill('900');
  const inThreeDays = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 16);
  await grant.getByLabel('Expires at (UTC)').fill(inThreeDays);
  await grant.getByRole('button', { name: 'Grant credits' }).click();
  await expect(grant.getByRole('status')).toContainText('Granted 20 credits to the pool, expiring');
  const allocate = card(page, 'Allocate or reclaim');
  await allocate.getByLabel('Member').selectOption({ label: `${member.name} (${member.email})` });
  await allocate.getByLabel('Amount').fill('7.5');
  await allocate.getByRole('button', { name: 'Allocate', exact: true }).click();
  await expect(allocate.getByRole('status')).toContainText('The member now has 7.5 available.');

  const context = await browser.newContext();
  try {
    const own = await context.newPage();
    await signInWithForm(own, member.email, member.password);
    await own.goto(`/balance?org=${org}`);
    await expect(own.getByRole('heading', { level: 1, name: 'My balance' })).toBeVisible();
    const main = own.getByRole('main');
    const figure = (label: string) => main.locator('dl > div').filter({ has: own.getByText(label, { exact: true }) });
    await expect(figure('Available')).toContainText('7.5');
    await expect(figure('Reserved by running calls')).toContainText('0');
    // Allocated credits keep the expiry of the lot they came from.
    await expect(figure('Expiring within 7 days')).toContainText('7.5');
    await expect(figure('Expiring within 7 days')).toContainText('Next expiry');
    const lots = own.getByRole('table', { name: 'Your credits by lot' });
    await expect(lots.getByRole('row').filter({ hasText: 'Allocation' })).toContainText('7.5');
    await expect(main.getByText('No LLM calls have been charged to you yet.')).toBeVisible();
    // Nothing of the org or of other people: no pool, no admin.
    await expect(main).not.toContainText(adminEmail);
    await expect(main).not.toContainText('Pool');

    // Pages and routes of the pool and the ledger are not theirs.
    for (const path of ['pool', 'ledger']) {
      await own.goto(`/${org}/${path}`);
      await expect(own).toHaveURL(/\/forbidden$/);
      await expect(own.getByRole('heading', { name: "You don't have access to this page" })).toBeVisible();
    }
    expect((await own.request.get(`/api/orgs/${org}/ledger.csv`)).status()).toBe(403);
    const bulk = await own.request.post(`/api/orgs/${org}/allocations/bulk`, {
      data: { upload_id: randomUUID(), rows: [{ row: 1, user: member.email, amount: '1000' }] },
    });
    expect(bulk.status()).toBe(403);
    await own.goto(`/balance?org=${org}`);
    await expect(figure('Available')).toContainText('7.5');

    // An LLM backend charges the member for a call; My balance shows it, and which credits paid it.
    const key = runAdminCli(['api-key', 'create', '--org', org, '--scope', 'meter', '--name', `Backend ${tag}`]).trim().split('\n').pop()!;
    const charged = await request.post('/api/v1/usage', {
      headers: { authorization: `Bearer ${key}` },
      data: { id: `call-${tag}`, user: memberId, amount: '1.25' },
    });
    expect(charged.status()).toBe(201);
    await own.reload();
    await expect(figure('Available')).toContainText('6.25');
    const charge = own.getByRole('list', { name: 'Your recent charges' }).getByRole('listitem');
    await expect(charge).toHaveCount(1);
    await expect(charge).toContainText('1.25');
    const receipt = charge.getByRole('table', { name: 'Receipt: credits that paid this charge' });
    await expect(receipt).toBeHidden();
    await charge.locator('summary').click();
    await expect(receipt.getByRole('row').filter({ hasText: 'Allocation' })).toContainText('1.25');
  } finally {
    await context.close();
  }
});
