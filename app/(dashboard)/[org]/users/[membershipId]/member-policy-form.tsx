'use client';

import { useActionState } from 'react';
import { ActionError, fieldErrorsOf } from '@/components/ui/action-feedback';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { SelectField, TextField } from '@/components/ui/field';
import { useFormValues } from '@/components/ui/use-form-values';
import { updateMemberPolicyAction } from './actions';

export type MemberPolicyValues = {
  auto_allocation: string | null;
  monthly_refill_to: string | null;
  pool_fallback: boolean | null;
  pool_daily_limit: string | null;
  pool_monthly_limit: string | null;
};

/** The org's values, shown as what an empty override falls back to. */
export type OrgDefaults = {
  auto_allocation: string;
  monthly_refill_to: string;
  pool_fallback: string;
  pool_daily_limit: string;
  pool_monthly_limit: string;
};

type Props = { orgSlug: string; membershipId: string; policy: MemberPolicyValues; defaults: OrgDefaults };

export function MemberPolicyForm({ orgSlug, membershipId, policy, defaults }: Props) {
  const [state, formAction, pending] = useActionState(updateMemberPolicyAction, null);
  const { values, onSubmit } = useFormValues();
  const errors = fieldErrorsOf(state);
  const failed = Boolean(state && !state.ok);
  const saved = (v: string | null) => v ?? '';
  const shown = (name: keyof MemberPolicyValues, value: string) => (failed ? (values[name] ?? '') : value);
  const fallback = policy.pool_fallback === null ? 'inherit' : policy.pool_fallback ? 'on' : 'off';
  const key = failed ? JSON.stringify(values) : JSON.stringify(policy);
  const hint = (value: string) => `Empty: the org default (${value}).`;

  return (
    <form key={key} action={formAction} onSubmit={onSubmit} className="space-y-4" noValidate>
      <input type="hidden" name="org" value={orgSlug} />
      <input type="hidden" name="membershipId" value={membershipId} />
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField label="Automatic allocation" name="auto_allocation" inputMode="decimal" autoComplete="off" placeholder={defaults.auto_allocation} defaultValue={shown('auto_allocation', saved(policy.auto_allocation))} errors={errors.auto_allocation} hint={hint(defaults.auto_allocation)} />
        <TextField label="Monthly refill to" name="monthly_refill_to" inputMode="decimal" autoComplete="off" placeholder={defaults.monthly_refill_to} defaultValue={shown('monthly_refill_to', saved(policy.monthly_refill_to))} errors={errors.monthly_refill_to} hint={hint(defaults.monthly_refill_to)} />
        <SelectField
          label="Pool fallback"
          name="pool_fallback"
          defaultValue={shown('pool_fallback', fallback)}
          errors={errors.pool_fallback}
          options={[
            { value: 'inherit', label: `Org default (${defaults.pool_fallback})` },
            { value: 'on', label: 'On' },
            { value: 'off', label: 'Off' },
          ]}
        />
        <div className="hidden sm:block" />
        <TextField label="Daily pool limit" name="pool_daily_limit" inputMode="decimal" autoComplete="off" placeholder={defaults.pool_daily_limit} defaultValue={shown('pool_daily_limit', saved(policy.pool_daily_limit))} errors={errors.pool_daily_limit} hint={hint(defaults.pool_daily_limit)} />
        <TextField label="Monthly pool limit" name="pool_monthly_limit" inputMode="decimal" autoComplete="off" placeholder={defaults.pool_monthly_limit} defaultValue={shown('pool_monthly_limit', saved(policy.pool_monthly_limit))} errors={errors.pool_monthly_limit} hint={hint(defaults.pool_monthly_limit)} />
      </div>
      <ActionError state={state} />
      {state && state.ok ? <Alert tone="success">The overrides are saved.</Alert> : null}
      <Button type="submit" pending={pending}>
        Save overrides
      </Button>
    </form>
  );
}
