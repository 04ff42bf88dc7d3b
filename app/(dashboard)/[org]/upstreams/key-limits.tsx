'use client';

import { useActionState } from 'react';
import { ActionError, fieldErrorsOf } from '@/components/ui/action-feedback';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { ConfirmActionForm } from '@/components/ui/confirm-action';
import { SelectField, TextField } from '@/components/ui/field';
import { Table, Td, Th } from '@/components/ui/table';
import { useFormValues } from '@/components/ui/use-form-values';
import type { KeyLimitsRow } from '@/lib/proxy/settings';
import { removeKeyLimitsAction, saveKeyLimitsAction } from './actions';


const fields = [
  { name: 'requestsPerMinute', label: 'Requests per minute' },
  { name: 'tokensPerMinute', label: 'Tokens per minute' },
  { name: 'concurrentRequests', label: 'Requests in flight' },
] as const;

const shown = (value: number | null) => (value === null ? 'No limit' : value.toLocaleString('en-US'));

/** Limits that replace the org's per-key limits for one key: a form to set them and the keys that have them. */
export function KeyLimits({ orgSlug, keys, limits }: { orgSlug: string; keys: { id: string; label: string }[]; limits: KeyLimitsRow[] }) {
  const [state, formAction, pending] = useActionState(saveKeyLimitsAction, null);
  const { values, onSubmit } = useFormValues();
  const errors = fieldErrorsOf(state);
  const failed = Boolean(state && !state.ok);
  return (
    <div className="space-y-6">
      {keys.length === 0 ? (
        <p className="text-sm text-zinc-600">No active key with the meter scope: create one on the API keys page first.</p>
      ) : (
        <form action={formAction} onSubmit={onSubmit} className="space-y-4" noValidate>
          <input type="hidden" name="org" value={orgSlug} />
          <div className="grid max-w-3xl gap-4 sm:grid-cols-4">
            <SelectField
              key={`k-${failed ? values.apiKeyId : ''}`}
              label="API key"
              name="apiKeyId"
              options={keys.map((k) => ({ value: k.id, label: k.label }))}
              defaultValue={failed ? values.apiKeyId : keys[0].id}
              errors={errors.apiKeyId}
            />
            {fields.map((f) => (
              <TextField
                key={`${f.name}-${failed ? values[f.name] : ''}`}
                label={f.label}
                name={f.name}
                inputMode="numeric"
                autoComplete="off"
                defaultValue={failed ? values[f.name] : ''}
                errors={errors[f.name]}
                hint="Empty: no limit"
              />
            ))}
          </div>
          <Button type="submit" pending={pending}>
            Save limits of the key
          </Button>
          <ActionError state={state} />
          {state?.ok && state.message ? <Alert tone="success">{state.message}</Alert> : null}
        </form>
      )}
      {limits.length > 0 ? (
        <Table caption="Keys with their own limits">
          <thead>
            <tr>
              <Th>Key</Th>
              {fields.map((f) => (
                <Th key={f.name}>{f.label}</Th>
              ))}
              <Th>
                <span className="sr-only">Actions</span>
              </Th>
            </tr>
          </thead>
          <tbody className="divide-y divide-zinc-100">
            {limits.map((l) => (
              <tr key={l.apiKeyId}>
                <Td className="font-medium">
                  {l.name} <code className="font-mono text-xs text-zinc-500">{l.prefix}…</code>
                </Td>
                <Td>{shown(l.requestsPerMinute)}</Td>
                <Td>{shown(l.tokensPerMinute)}</Td>
                <Td>{shown(l.concurrentRequests)}</Td>
                <Td>
                  <ConfirmActionForm
                    action={removeKeyLimitsAction}
                    fields={{ org: orgSlug, apiKeyId: l.apiKeyId }}
                    confirm={`Remove the limits of the key "${l.name}"? It gets the org's key limits again.`}
                    label="Remove"
                    ariaLabel={`Remove the limits of key ${l.name}`}
                  />
                </Td>
              </tr>
            ))}
          </tbody>
        </Table>
      ) : null}
    </div>
  );
}
