'use client';

import { useActionState } from 'react';
import { ActionError, fieldErrorsOf } from '@/components/ui/action-feedback';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { TextField } from '@/components/ui/field';
import { useFormValues } from '@/components/ui/use-form-values';
import { updateOrgPolicyAction } from './actions';

export type OrgPolicyValues = {
  auto_allocation: string;
  monthly_refill_to: string | null;
  pool_fallback: boolean;
  pool_daily_limit: string | null;
  pool_monthly_limit: string | null;
  overdraft_limit: string;
  default_reservation_ttl_seconds: number;
  max_reservation_ttl_seconds: number;
};

/** How the org hands out and limits credits. Every field is saved together; empty amounts mean none. */
export function OrgPolicyForm({ orgSlug, policy }: { orgSlug: string; policy: OrgPolicyValues }) {
  const [state, formAction, pending] = useActionState(updateOrgPolicyAction, null);
  const { values, onSubmit } = useFormValues();
  const errors = fieldErrorsOf(state);
  const failed = Boolean(state && !state.ok);
  // After a failure the form shows what was typed; otherwise the saved policy.
  const shown = (name: keyof OrgPolicyValues, saved: string | number | null) => (failed ? (values[name] ?? '') : String(saved ?? ''));
  const fallbackOn = failed ? values.pool_fallback === 'on' : policy.pool_fallback;
  const key = failed ? JSON.stringify(values) : JSON.stringify(policy);

  return (
    <form key={key} action={formAction} onSubmit={onSubmit} className="space-y-6" noValidate>
      <input type="hidden" name="org" value={orgSlug} />
      <fieldset className="space-y-4">
        <legend className="text-sm font-semibold text-zinc-900">Allocations</legend>
        <div className="grid gap-4 sm:grid-cols-2">
          <TextField label="Automatic allocation for new members" name="auto_allocation" inputMode="decimal" autoComplete="off" defaultValue={shown('auto_allocation', policy.auto_allocation)} errors={errors.auto_allocation} hint="Allocated from the pool when someone joins; empty or 0 for none." />
          <TextField label="Monthly refill to" name="monthly_refill_to" inputMode="decimal" autoComplete="off" defaultValue={shown('monthly_refill_to', policy.monthly_refill_to)} errors={errors.monthly_refill_to} hint="Each month every member is topped up to this from the pool; empty for no refill." />
        </div>
      </fieldset>
      <fieldset className="space-y-4">
        <legend className="text-sm font-semibold text-zinc-900">Pool fallback</legend>
        <label className="flex items-start gap-2 text-sm text-zinc-800">
          <input type="checkbox" name="pool_fallback" defaultChecked={fallbackOn} className="mt-0.5 size-4 rounded border-zinc-300 accent-accent-600" />
          <span>
            <span className="font-medium">Let members draw from the pool when their allocation runs out</span>
            <span className="block text-xs text-zinc-500">Within the limits per member below.</span>
          </span>
        </label>
        <div className="grid gap-4 sm:grid-cols-2">
          <TextField label="Daily limit per member" name="pool_daily_limit" inputMode="decimal" autoComplete="off" defaultValue={shown('pool_daily_limit', policy.pool_daily_limit)} errors={errors.pool_daily_limit} hint="Empty for no daily limit." />
          <TextField label="Monthly limit per member" name="pool_monthly_limit" inputMode="decimal" autoComplete="off" defaultValue={shown('pool_monthly_limit', policy.pool_monthly_limit)} errors={errors.pool_monthly_limit} hint="Empty for no monthly limit." />
        </div>
      </fieldset>
      <fieldset className="space-y-4">
        <legend className="text-sm font-semibold text-zinc-900">Metering</legend>
        <div className="grid gap-4 sm:grid-cols-3">
          <TextField label="Overdraft limit" name="overdraft_limit" inputMode="decimal" autoComplete="off" defaultValue={shown('overdraft_limit', policy.overdraft_limit)} errors={errors.overdraft_limit} hint="How far below zero a final charge may go; 0 for none." />
          <TextField label="Default reservation TTL (seconds)" name="default_reservation_ttl_seconds" type="number" min={1} max={86400} step={1} required defaultValue={shown('default_reservation_ttl_seconds', policy.default_reservation_ttl_seconds)} errors={errors.default_reservation_ttl_seconds} />
          <TextField label="Maximum reservation TTL (seconds)" name="max_reservation_ttl_seconds" type="number" min={1} max={86400} step={1} required defaultValue={shown('max_reservation_ttl_seconds', policy.max_reservation_ttl_seconds)} errors={errors.max_reservation_ttl_seconds} />
        </div>
      </fieldset>
      <ActionError state={state} />
      {state && state.ok ? <Alert tone="success">The credit policy is saved.</Alert> : null}
      <Button type="submit" pending={pending}>
        Save policy
      </Button>
    </form>
  );
}
