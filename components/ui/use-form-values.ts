'use client';

import { useCallback, useState, type FormEvent } from 'react';

/**
 * React resets a form after its action completes. This keeps what the user typed so a form that failed can
 * show it again: pass `values.x` (or `lists.x` for checkboxes) as the inputs' defaults and `onSubmit` to the form. Secrets (passwords)
 * are never kept.
 */
const defaultSecretNames: readonly string[] = ['password'];

export function useFormValues(secretNames: readonly string[] = defaultSecretNames) {
  const [lists, setLists] = useState<Record<string, string[]>>({});
  const onSubmit = useCallback(
    (event: FormEvent<HTMLFormElement>) => {
      const next: Record<string, string[]> = {};
      for (const [key, value] of new FormData(event.currentTarget).entries()) {
        if (typeof value === 'string' && !key.startsWith('$ACTION') && !secretNames.includes(key)) {
          (next[key] ??= []).push(value);
        }
      }
      setLists(next);
    },
    [secretNames],
  );
  // `values` has the last value of each name; `lists` every value, for checkbox groups.
  const values = Object.fromEntries(Object.entries(lists).map(([k, v]) => [k, v[v.length - 1] ?? '']));
  return { values, lists, onSubmit };
}
