'use client';

import { useActionState } from 'react';
import { ActionError, actionData, fieldErrorsOf } from '@/components/ui/action-feedback';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { SelectField, TextField } from '@/components/ui/field';
import { useFormValues } from '@/components/ui/use-form-values';
import { showCredits } from '@/components/ledger/credits';
import { transferCreditsAction } from './actions';
import type { MemberOption } from './member-credits-form';

/** Moves credits between two members, or between a member and the pool; recorded in the audit trail. */
export function TransferForm({ orgSlug, members }: { orgSlug: string; members: MemberOption[] }) {
  const [state, formAction, pending] = useActionState(transferCreditsAction, null);
  const { values, onSubmit } = useFormValues();
  const errors = fieldErrorsOf(state);
  const done = actionData(state);
  const kept = state && !state.ok ? values : {};
  const sides = [{ value: 'pool', label: 'Pool' }, ...members];

  return (
    <form action={formAction} onSubmit={onSubmit} className="space-y-4" noValidate>
      <input type="hidden" name="org" value={orgSlug} />
      <div className="grid gap-4 sm:grid-cols-2">
        <SelectField key={`from-${kept.from ?? ''}`} label="From" name="from" defaultValue={kept.from ?? 'pool'} errors={errors.from} options={sides} />
        <SelectField key={`to-${kept.to ?? ''}`} label="To" name="to" defaultValue={kept.to ?? members[0]?.value ?? 'pool'} errors={errors.to} options={sides} />
      </div>
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField key={`amount-${kept.amount ?? ''}`} label="Amount" name="amount" inputMode="decimal" autoComplete="off" required defaultValue={kept.amount} errors={errors.amount} />
        <TextField key={`reason-${kept.reason ?? ''}`} label="Reason" name="reason" autoComplete="off" defaultValue={kept.reason} errors={errors.reason} hint="Optional; shown in the ledger." />
      </div>
      <ActionError state={state} />
      {done ? <Alert tone="success">Transferred {showCredits(done.amount)} credits.</Alert> : null}
      <Button type="submit" pending={pending}>
        Transfer credits
      </Button>
    </form>
  );
}
