'use client';

import { useActionState } from 'react';
import type { FormAction } from '@/lib/auth/action';
import { ActionError } from './action-feedback';
import { Button } from './button';

/**
 * A destructive server action behind one button: the browser asks `confirm` first, the `fields` go along as
 * hidden inputs, and the action's error shows under the button.
 */
export function ConfirmActionForm<T>({
  action,
  fields,
  confirm,
  label,
  ariaLabel,
}: {
  action: FormAction<T>;
  fields: Record<string, string>;
  confirm: string;
  label: string;
  ariaLabel: string;
}) {
  const [state, formAction, pending] = useActionState(action, null);
  return (
    <form
      action={formAction}
      onSubmit={(e) => {
        if (!window.confirm(confirm)) e.preventDefault();
      }}
      className="space-y-2"
    >
      {Object.entries(fields).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <Button type="submit" variant="danger" size="sm" pending={pending} aria-label={ariaLabel}>
        {label}
      </Button>
      <ActionError state={state} />
    </form>
  );
}
