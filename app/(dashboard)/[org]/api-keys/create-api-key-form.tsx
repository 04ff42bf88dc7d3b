'use client';

import { useActionState } from 'react';
import { ActionError, actionData, fieldErrorsOf } from '@/components/ui/action-feedback';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { CopyField } from '@/components/ui/copy-field';
import { CheckboxGroup, TextField } from '@/components/ui/field';
import { useFormValues } from '@/components/ui/use-form-values';
import { createApiKeyAction } from './actions';

const scopeOptions = [
  { value: 'meter', label: 'meter', description: 'Reserve, commit and report usage of LLM calls.' },
  { value: 'read', label: 'read', description: 'Read balances, usage and users.' },
  { value: 'admin', label: 'admin', description: 'Everything, including managing users and allocations.' },
] as const;

export function CreateApiKeyForm({ orgSlug }: { orgSlug: string }) {
  const [state, formAction, pending] = useActionState(createApiKeyAction, null);
  const { values, lists, onSubmit } = useFormValues();
  const errors = fieldErrorsOf(state);
  const created = actionData(state);
  const failed = Boolean(state && !state.ok);
  const kept = failed ? values : {};
  const keptScopes = failed ? (lists.scopes ?? []) : ['meter'];

  return (
    <div className="space-y-4">
      <form action={formAction} onSubmit={onSubmit} className="space-y-4" noValidate>
        <input type="hidden" name="org" value={orgSlug} />
        <div className="max-w-md">
          <TextField
            key={`name-${kept.name ?? ''}`}
            label="Name"
            name="name"
            required
            autoComplete="off"
            defaultValue={kept.name}
            errors={errors.name}
            hint="For example, the service that will use it."
          />
        </div>
        <CheckboxGroup
          key={`scopes-${keptScopes.join(',')}`}
          legend="Scopes"
          name="scopes"
          options={scopeOptions}
          defaultValues={keptScopes}
          errors={errors.scopes}
        />
        <Button type="submit" pending={pending}>
          Create key
        </Button>
      </form>
      <ActionError state={state} />
      {created ? (
        <div className="space-y-3">
          <Alert tone="warning" title="Copy this key now">
            This is the only time the key “{created.name}” is shown. Only a hash is stored, so it cannot be shown again;
            if it is lost, revoke it and create a new one.
          </Alert>
          <CopyField label="API key" value={created.key} />
        </div>
      ) : null}
    </div>
  );
}
