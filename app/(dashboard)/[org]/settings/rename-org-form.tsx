'use client';

import { useActionState } from 'react';
import { ActionError, actionData, fieldErrorsOf } from '@/components/ui/action-feedback';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { TextField } from '@/components/ui/field';
import { useFormValues } from '@/components/ui/use-form-values';
import { renameOrgAction } from './actions';

export function RenameOrgForm({ orgSlug, name }: { orgSlug: string; name: string }) {
  const [state, formAction, pending] = useActionState(renameOrgAction, null);
  const { values, onSubmit } = useFormValues();
  const errors = fieldErrorsOf(state);
  const renamed = actionData(state);
  const shown = renamed ? renamed.name : state && !state.ok ? (values.name ?? name) : name;

  return (
    <form action={formAction} onSubmit={onSubmit} className="max-w-md space-y-4" noValidate>
      <input type="hidden" name="org" value={orgSlug} />
      <TextField key={shown} label="Name" name="name" defaultValue={shown} required errors={errors.name} />
      <ActionError state={state} />
      {renamed ? <Alert tone="success">The organization is now called {renamed.name}.</Alert> : null}
      <Button type="submit" pending={pending}>
        Save name
      </Button>
    </form>
  );
}
