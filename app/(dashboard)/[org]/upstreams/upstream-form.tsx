'use client';

import { useActionState } from 'react';
import { ActionError, fieldErrorsOf } from '@/components/ui/action-feedback';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { TextField } from '@/components/ui/field';
import { useFormValues } from '@/components/ui/use-form-values';
import { createUpstreamAction, updateUpstreamAction } from './actions';

export type UpstreamItem = {
  id: string;
  name: string;
  baseUrl: string;
  apiKeyLast4: string;
  modelPatterns: string[];
  enabled: boolean;
  updatedAt: string;
};

/** Adds an upstream, or edits `upstream`; the stored key is never sent back, a new one replaces it. */
export function UpstreamForm({ orgSlug, upstream }: { orgSlug: string; upstream?: UpstreamItem }) {
  const [state, formAction, pending] = useActionState(upstream ? updateUpstreamAction : createUpstreamAction, null);
  const { values, onSubmit } = useFormValues(['password', 'apiKey']);
  const errors = fieldErrorsOf(state);
  const kept = state && !state.ok ? values : {};
  const initial = {
    name: kept.name ?? upstream?.name,
    baseUrl: kept.baseUrl ?? upstream?.baseUrl,
    modelPatterns: kept.modelPatterns ?? upstream?.modelPatterns.join(', '),
  };
  const keyPart = `${initial.name ?? ''}-${initial.baseUrl ?? ''}-${initial.modelPatterns ?? ''}`;
  return (
    <form action={formAction} onSubmit={onSubmit} className="space-y-4" noValidate>
      <input type="hidden" name="org" value={orgSlug} />
      {upstream ? <input type="hidden" name="upstreamId" value={upstream.id} /> : null}
      <div className="grid max-w-3xl gap-4 sm:grid-cols-2">
        <TextField key={`n-${keyPart}`} label="Name" name="name" required autoComplete="off" defaultValue={initial.name} errors={errors.name} />
        <TextField
          key={`u-${keyPart}`}
          label="Base URL"
          name="baseUrl"
          required
          autoComplete="off"
          defaultValue={initial.baseUrl}
          errors={errors.baseUrl}
          hint="The OpenAI-compatible API root, for example https://api.openai.com/v1"
        />
        <TextField
          label={upstream ? 'New API key (optional)' : 'API key'}
          name="apiKey"
          type="password"
          required={!upstream}
          autoComplete="off"
          errors={errors.apiKey}
          hint={upstream ? `Leave empty to keep the key ending in ${upstream.apiKeyLast4}.` : 'Stored encrypted; only its last four characters are shown.'}
        />
        <TextField
          key={`m-${keyPart}`}
          label="Models"
          name="modelPatterns"
          required
          autoComplete="off"
          defaultValue={initial.modelPatterns}
          errors={errors.modelPatterns}
          hint="Model names or patterns, comma-separated: gpt-4o, gpt-4o-*, or * for all."
        />
      </div>
      <Button type="submit" pending={pending}>
        {upstream ? 'Save' : 'Add upstream'}
      </Button>
      <ActionError state={state} />
      {state?.ok && state.message ? <Alert tone="success">{state.message}</Alert> : null}
    </form>
  );
}
