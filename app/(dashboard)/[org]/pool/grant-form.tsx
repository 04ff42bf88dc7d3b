'use client';

import { useActionState } from 'react';
import { ActionError, actionData, fieldErrorsOf } from '@/components/ui/action-feedback';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { SelectField, TextField } from '@/components/ui/field';
import { formatDateTime } from '@/components/ui/format';
import { useFormValues } from '@/components/ui/use-form-values';
import { showCredits } from '@/components/ledger/credits';
import { grantCreditsAction } from './actions';

const sources = [
  { value: 'promotion', label: 'Promotional credits' },
  { value: 'adjustment', label: 'Manual adjustment' },
];

/** Credits into the pool from outside: a promotion or a manual correction, optionally expiring. */
export function GrantForm({ orgSlug }: { orgSlug: string }) {
  const [state, formAction, pending] = useActionState(grantCreditsAction, null);
  const { values, onSubmit } = useFormValues();
  const errors = fieldErrorsOf(state);
  const granted = actionData(state);
  const kept = state && !state.ok ? values : {};
  const k = (name: string) => `${name}-${kept[name] ?? ''}`;

  return (
    <form action={formAction} onSubmit={onSubmit} className="space-y-4" noValidate>
      <input type="hidden" name="org" value={orgSlug} />
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField key={k('amount')} label="Amount" name="amount" inputMode="decimal" autoComplete="off" required defaultValue={kept.amount} errors={errors.amount} hint="Credits, up to 6 decimals." />
        <SelectField key={k('source')} label="Kind" name="source" defaultValue={kept.source ?? 'promotion'} errors={errors.source} options={sources} />
      </div>
      <TextField key={k('reason')} label="Reason" name="reason" required autoComplete="off" defaultValue={kept.reason} errors={errors.reason} hint="Shown in the ledger, for example “Launch promotion”." />
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField key={k('expires_at')} label="Expires at (UTC)" name="expires_at" type="datetime-local" defaultValue={kept.expires_at} errors={errors.expires_at} hint="Leave empty for credits that never expire." />
        <TextField key={k('priority')} label="Priority" name="priority" type="number" step={1} min={-1000} max={1000} defaultValue={kept.priority} errors={errors.priority} hint="Higher is spent first; 0 when empty." />
      </div>
      <ActionError state={state} />
      {granted ? (
        <Alert tone="success">
          Granted {showCredits(granted.amount)} credits to the pool
          {granted.expiresAt ? `, expiring ${formatDateTime(granted.expiresAt)}` : ''}. The pool now has{' '}
          {showCredits(granted.available)} available.
        </Alert>
      ) : null}
      <Button type="submit" pending={pending}>
        Grant credits
      </Button>
    </form>
  );
}
