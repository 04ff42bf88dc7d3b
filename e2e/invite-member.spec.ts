import { randomUUID } from 'node:crypto';
import { expect, test, type Page } from '@playwright/test';
import { dashboardSections, sectionsNav, signInWithForm } from './support/auth';
import { readCredentials } from './support/env';

const unique = () => randomUUID().slice(0, 8);

/**
 * The hidden `$ACTION_*` inputs React renders into a form bound to a server action (the action id, and the
 * bound state when the form uses useActionState): replaying them with other fields is what a no-JS browser
 * submission of that form sends.
 */
async function serverActionFields(page: Page, submitLabel: string): Promise<[string, string][]> {
  const form = page.locator('form').filter({ has: page.getByRole('button', { name: submitLabel }) });
  const hidden = await form
    .locator('input[type="hidden"]')
    .evaluateAll((inputs) => inputs.map((i) => [(i as HTMLInputElement).name, (i as HTMLInputElement).value] as [string, string]));
  return hidden.filter(([name]) => name.startsWith('$ACTION'));
}

/** The id of the server action, from `$ACTION_ID_<id>` or from the bound reference React encodes. */
function actionIdOf(fields: [string, string][]): string | undefined {
  for (const [name, value] of fields) {
    const direct = /^\$ACTION_ID_([0-9a-f]+)$/.exec(name);
    if (direct) return direct[1];
    const bound = /"id":"([0-9a-f]+)"/.exec(value);
    if (bound) return bound[1];
  }
  return undefined;
}

async function invitationEmails(page: Page, org: string): Promise<string> {
  await page.goto(`/${org}/users`);
  return (await page.getByRole('table', { name: 'Invitations' }).textContent()) ?? '';
}

test('an admin invites a member, who joins and can open only their own balance', async ({ page, browser, baseURL }) => {
  const { email: adminEmail, password: adminPassword, org } = readCredentials();
  const memberEmail = `member-${unique()}@example.com`;
  const memberPassword = `pw-${randomUUID()}`;

  // The admin invites a member and reads the link.
  await signInWithForm(page, adminEmail, adminPassword);
  await page.goto(`/${org}/users`);
  await page.getByLabel('Email', { exact: true }).fill(memberEmail);
  await page.getByLabel('Role', { exact: true }).selectOption('member');
  await page.getByRole('button', { name: 'Send invitation' }).click();
  const linkField = page.getByRole('textbox', { name: 'Invitation link' });
  await expect(linkField).toHaveValue(/\/invite\/[A-Za-z0-9_-]+$/);
  const link = await linkField.inputValue();
  expect(link.startsWith(`${baseURL}/invite/`)).toBe(true);
  await expect(page.getByRole('table', { name: 'Invitations' })).toContainText(memberEmail);

  // The invited person opens the link in their own browser and creates an account.
  const memberContext = await browser.newContext();
  try {
    const member = await memberContext.newPage();
    await member.goto(link);
    await expect(member.getByRole('heading', { level: 1 })).toContainText('Join');
    await expect(member.getByText('Member', { exact: true })).toBeVisible();
    await expect(member.getByLabel('Email')).toHaveValue(memberEmail);
    await expect(member.getByLabel('Email')).toHaveAttribute('readonly', '');
    await member.getByLabel('Name').fill('Morgan Member');
    await member.getByLabel('Password').fill(memberPassword);
    await member.getByRole('button', { name: 'Create account and join' }).click();

    await expect(member).toHaveURL(new RegExp(`/balance\\?org=${org}$`));
    await expect(member.getByRole('heading', { level: 1, name: 'My balance' })).toBeVisible();
    await expect(member.getByText('Your balance appears here once credits are allocated to you')).toBeVisible();
    const nav = sectionsNav(member);
    await expect(nav.getByRole('link')).toHaveText(['My balance']);
    for (const section of dashboardSections) {
      await expect(nav.getByRole('link', { name: section, exact: true })).toHaveCount(0);
    }
    await expect(member.getByRole('button', { name: 'Sign out' })).toBeVisible();

    // Typing admin URLs leads to the forbidden page.
    for (const path of ['users', 'api-keys']) {
      await member.goto(`/${org}/${path}`);
      await expect(member).toHaveURL(/\/forbidden$/);
      await expect(member.getByRole('heading', { name: "You don't have access to this page" })).toBeVisible();
    }

    // The invitation form's server action, replayed. First by the admin: this proves the replay is a working
    // submission, so the member's refusal below is the authorization check and not a malformed request.
    await page.goto(`/${org}/users`);
    const fields = await serverActionFields(page, 'Send invitation');
    expect(actionIdOf(fields), 'the invite form is bound to a server action').toBeTruthy();

    const submit = (who: Page, email: string) =>
      who.request.post(`/${org}/users`, {
        headers: { Origin: baseURL!, Accept: 'text/html' },
        multipart: { ...Object.fromEntries(fields), org, email, role: 'admin' },
        maxRedirects: 0,
      });

    const controlEmail = `control-${unique()}@example.com`;
    const control = await submit(page, controlEmail);
    expect(control.status()).toBeLessThan(400);
    expect(await invitationEmails(page, org)).toContain(controlEmail);

    const intruderEmail = `intruder-${unique()}@example.com`;
    const attempt = await submit(member, intruderEmail);
    const body = await attempt.text();
    expect(body).not.toContain('/invite/');
    expect(body).not.toContain('Invitation created');
    expect(await invitationEmails(page, org)).not.toContain(intruderEmail);
  } finally {
    await memberContext.close();
  }
});
