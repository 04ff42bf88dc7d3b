'use client';

import { useActionState } from 'react';
import { ActionError, fieldErrorsOf } from '@/components/ui/action-feedback';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { SelectField, TextField } from '@/components/ui/field';
import { useFormValues } from '@/components/ui/use-form-values';
import { saveProxySettingsAction } from './actions';

export type ProxySettingsItem = {
  keyRequestsPerMinute: number | null;
  keyTokensPerMinute: number | null;
  keyConcurrentRequests: number | null;
  userRequestsPerMinute: number | null;
  userTokensPerMinute: number | null;
  userConcurrentRequests: number | null;
  degradation: 'fail_closed' | 'fail_open';
  /** Decimal credits. */
  failOpenUserCap: string;
};

const limits = [
  { name: 'keyRequestsPerMinute', label: 'Requests per minute, per API key' },
  { name: 'keyTokensPerMinute', label: 'Tokens per minute, per API key' },
  { name: 'keyConcurrentRequests', label: 'Requests in flight, per API key' },
  { name: 'userRequestsPerMinute', label: 'Requests per minute, per end user' },
  { name: 'userTokensPerMinute', label: 'Tokens per minute, per end user' },
  { name: 'userConcurrentRequests', label: 'Requests in flight, per end user' },
] as const;

const degradationOptions = [
  { value: 'fail_closed', label: 'Refuse requests (503)' },
  { value: 'fail_open', label: 'Forward them unmetered, up to a cap per user' },
];

export function ProxySettingsForm({ orgSlug, settings }: { orgSlug: string; settings: ProxySettingsItem }) {
  const [state, formAction, pending] = useActionState(saveProxySettingsAction, null);
  const { values, onSubmit } = useFormValues();
  const errors = fieldErrorsOf(state);
  const failed = Boolean(state && !state.ok);
  const value = (name: keyof ProxySettingsItem) => (failed ? values[name] : String(settings[name] ?? ''));
  return (
    <form action={formAction} onSubmit={onSubmit} className="space-y-4" noValidate>
      <input type="hidden" name="org" value={orgSlug} />
      <div className="grid max-w-3xl gap-4 sm:grid-cols-3">
        {limits.map((l) => (
          <TextField
            key={`${l.name}-${value(l.name)}`}
            label={l.label}
            name={l.name}
            inputMode="numeric"
            autoComplete="off"
            defaultValue={value(l.name)}
            errors={errors[l.name]}
            hint="Empty: no limit"
          />
        ))}
      </div>
      <div className="grid max-w-3xl gap-4 sm:grid-cols-2">
        <SelectField
          key={`d-${value('degradation')}`}
          label="When the credit database cannot be reached"
          name="degradation"
          options={degradationOptions}
          defaultValue={value('degradation')}
          errors={errors.degradation}
        />
        <TextField
          key={`c-${value('failOpenUserCap')}`}
          label="Unmetered credits per user during an outage"
          name="failOpenUserCap"
          inputMode="decimal"
          autoComplete="off"
          defaultValue={value('failOpenUserCap')}
          errors={errors.failOpenUserCap}
          hint="Applies when requests are forwarded unmetered; every such request is journaled for charging later."
        />
      </div>
      <Button type="submit" pending={pending}>
        Save settings
      </Button>
      <ActionError state={state} />
      {state?.ok && state.message ? <Alert tone="success">{state.message}</Alert> : null}
    </form>
  );
}
