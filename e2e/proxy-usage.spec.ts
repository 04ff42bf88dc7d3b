import { randomUUID } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { signInWithForm } from './support/auth';
import { createLedgerOrg, readCredentials, runAdminCli } from './support/env';

test('an LLM call through the OpenAI-compatible proxy is charged at its catalog price and shows in the usage log with its receipt', async ({ page, request }) => {
  test.setTimeout(120_000);
  const { email: adminEmail, password: adminPassword } = readCredentials();
  const tag = randomUUID().slice(0, 8);
  const org = createLedgerOrg(`proxy-${tag}`, adminEmail);
  const key = runAdminCli(['api-key', 'create', '--org', org, '--scope', 'admin', '--name', `Backend ${tag}`]).trim().split('\n').pop()!;
  const auth = { authorization: `Bearer ${key}` };
  const user = `dev-${tag}`;

  // The backend's user, with 50 credits.
  expect((await request.post('/api/v1/users', { headers: auth, data: { external_id: user, name: `Dev ${tag}` } })).status()).toBe(201);
  expect((await request.post('/api/v1/grants', { headers: auth, data: { user, amount: '50', reason: 'Proxy journey' } })).status()).toBe(201);

  // The metering API through the production server's direct dispatch: a retried reserve with the same
  // Idempotency-Key is the same hold, then it is committed and its unused part released.
  const idem = { ...auth, 'idempotency-key': `hold-${tag}` };
  const held = await request.post('/api/v1/reservations', { headers: idem, data: { user, amount: '2' } });
  const again = await request.post('/api/v1/reservations', { headers: idem, data: { user, amount: '2' } });
  expect(held.status()).toBe(201);
  expect(await again.json()).toEqual(await held.json());
  const { id: holdId } = await held.json();
  const committed = await request.post(`/api/v1/reservations/${holdId}/commit`, { headers: auth, data: { amount: '0.5' } });
  expect(await committed.json()).toMatchObject({ status: 'committed', charged: '0.5', released: '1.5' });

  // An OpenAI-style call with the Credits key as the API key; the end user is the request's `user`.
  const call = await request.post('/api/v1/openai/chat/completions', {
    headers: auth,
    data: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }], max_tokens: 5, user },
  });
  expect(call.status()).toBe(200);
  const completion = await call.json();
  expect(completion.choices[0].message.content).toBe('tok '.repeat(5));
  const charged = call.headers()['x-credits-charged'];
  expect(Number(charged)).toBeGreaterThan(0);
  // The answer left before its charge was captured; the balance shows the charge moments later. Until the
  // proxy releases the credits it holds for this member's next calls (a lease), they show as reserved: what
  // the member can still spend is the total.
  const total = async () => (await (await request.get(`/api/v1/balance?user=${user}`, { headers: auth })).json()).total;
  await expect.poll(total).toBe(call.headers()['x-credits-remaining']);

  // Not enough credits: OpenAI's error shape, so OpenAI SDKs raise it.
  const poor = `poor-${tag}`;
  expect((await request.post('/api/v1/users', { headers: auth, data: { external_id: poor } })).status()).toBe(201);
  expect((await request.post('/api/v1/grants', { headers: auth, data: { user: poor, amount: '0.000001', reason: 'Proxy journey' } })).status()).toBe(201);
  const broke = await request.post('/api/v1/openai/chat/completions', {
    headers: { ...auth, 'x-credits-user': poor },
    data: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }], max_tokens: 50 },
  });
  expect(broke.status()).toBe(402);
  expect((await broke.json()).error).toMatchObject({ type: 'insufficient_quota' });

  // The admin finds the request in the usage log and opens its receipt.
  await signInWithForm(page, adminEmail, adminPassword);
  await page.goto(`/${org}/usage`);
  const records = page.getByRole('table', { name: 'Usage records' });
  const row = records.getByRole('row').filter({ hasText: 'gpt-4o-mini' });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText(`Backend ${tag}`);
  await expect(row).toContainText('ok');
  await row.getByRole('link').click();
  await expect(page.getByRole('heading', { level: 1, name: 'gpt-4o-mini' })).toBeVisible();
  await expect(page.getByRole('main')).toContainText(`${charged} credits`);
  const receipt = page.getByRole('table', { name: 'Receipt: the ledger entries of this charge' });
  await expect(receipt.getByRole('row')).not.toHaveCount(1);
  await expect(receipt).toContainText(charged);

  // A streamed call: server-sent events passed through, then settled on the usage the upstream reported.
  const streamed = await request.post('/api/v1/openai/chat/completions', {
    headers: auth,
    data: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }], max_tokens: 3, stream: true, user },
  });
  expect(streamed.status()).toBe(200);
  expect(streamed.headers()['content-type']).toContain('text/event-stream');
  const events = (await streamed.text()).split('\n\n').filter((e) => e.startsWith('data: '));
  expect(events.at(-1)).toBe('data: [DONE]');
  expect(events.filter((e) => e.includes('"content":"tok "'))).toHaveLength(3);
  await expect
    .poll(async () => {
      const page = await (await request.get(`/api/v1/usage/records?user=${user}&model=gpt-4o-mini`, { headers: auth })).json();
      return page.data.map((r: { status: string; output_tokens: number }) => `${r.status}:${r.output_tokens}`);
    })
    .toEqual(['ok:3', 'ok:5']);
});
