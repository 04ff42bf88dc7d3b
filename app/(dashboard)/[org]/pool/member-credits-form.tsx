'use client';

import { useActionState } from 'react';
import { ActionError, actionData, fieldErrorsOf } from '@/components/ui/action-feedback';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { SelectField, TextField } from '@/components/ui/field';
import { useFormValues } from '@/components/ui/use-form-values';
import { showCredits } from '@/components/ledger/credits';
import { memberCreditsAction } from './actions';

export type MemberOption = { value: string; label: string };

type MemberCreditsFormProps = {
  orgSlug: string;
  /** Choose the member from a list... */
  members?: MemberOption[];
  /** ...or act on this one. */
  member?: MemberOption;
  /** A single row of a table: small controls, labels for screen readers only. */
  compact?: boolean;
};

/** Allocates credits from the pool to a member, or reclaims their unused allocation back to the pool. */
export function MemberCreditsForm({ orgSlug, members, member, compact = false }: MemberCreditsFormProps) {
  const [state, formAction, pending] = useActionState(memberCreditsAction, null);
  const { values, onSubmit } = useFormValues();
  const errors = fieldErrorsOf(state);
  const done = actionData(state);
  const kept = state && !state.ok ? values : {};
  const who = member?.label;

  if (compact && member) {
    return (
      <form action={formAction} onSubmit={onSubmit} className="space-y-1.5" noValidate>
        <input type="hidden" name="org" value={orgSlug} />
        <input type="hidden" name="user" value={member.value} />
        <div className="flex items-center gap-2">
          <label htmlFor={`credits-${member.value}`} className="sr-only">
            Credits for {who}
          </label>
          <input
            key={`amount-${kept.amount ?? ''}`}
            id={`credits-${member.value}`}
            name="amount"
            inputMode="decimal"
            autoComplete="off"
            placeholder="Credits"
            defaultValue={kept.amount}
            aria-invalid={errors.amount ? true : undefined}
            className={`h-8 w-24 rounded-md border bg-white px-2 text-sm ${errors.amount ? 'border-red-500' : 'border-zinc-300'}`}
          />
          <Button type="submit" name="direction" value="allocate" size="sm" variant="secondary" pending={pending} aria-label={`Allocate to ${who}`}>
            Allocate
          </Button>
          <Button type="submit" name="direction" value="reclaim" size="sm" variant="ghost" pending={pending} aria-label={`Reclaim from ${who}`}>
            Reclaim
          </Button>
        </div>
        {state && !state.ok ? (
          <p role="alert" className="max-w-56 text-xs text-red-700">
            {errors.amount?.[0] ?? state.error.message}
          </p>
        ) : null}
        {done ? (
          <p role="status" className="text-xs text-emerald-700">
            {done.direction === 'allocate' ? 'Allocated' : 'Reclaimed'} {showCredits(done.amount)}
          </p>
        ) : null}
      </form>
    );
  }

  return (
    <form action={formAction} onSubmit={onSubmit} className="space-y-4" noValidate>
      <input type="hidden" name="org" value={orgSlug} />
      {member ? (
        <input type="hidden" name="user" value={member.value} />
      ) : (
        <SelectField
          key={`user-${kept.user ?? ''}`}
          label="Member"
          name="user"
          defaultValue={kept.user ?? ''}
          errors={errors.user}
          options={[{ value: '', label: 'Choose a member' }, ...(members ?? [])]}
        />
      )}
      <TextField key={`amount-${kept.amount ?? ''}`} label="Amount" name="amount" inputMode="decimal" autoComplete="off" required defaultValue={kept.amount} errors={errors.amount} hint="Reclaiming takes back at most what is available; reserved credits stay." />
      <ActionError state={state} />
      {done ? (
        <Alert tone="success">
          {done.direction === 'allocate' ? 'Allocated' : 'Reclaimed'} {showCredits(done.amount)} credits. The member now has{' '}
          {showCredits(done.memberAvailable)} available.
        </Alert>
      ) : null}
      <div className="flex flex-wrap gap-2">
        <Button type="submit" name="direction" value="allocate" pending={pending}>
          Allocate
        </Button>
        <Button type="submit" name="direction" value="reclaim" variant="secondary" pending={pending}>
          Reclaim
        </Button>
      </div>
    </form>
  );
}
