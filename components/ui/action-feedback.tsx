import type { ActionResult } from '@/lib/auth/action';
import { Alert } from './alert';

/** The field errors of a failed action, keyed by input name. */
export function fieldErrorsOf(state: ActionResult<unknown> | null | undefined): Record<string, string[] | undefined> {
  if (!state || state.ok) return {};
  return state.fieldErrors ?? {};
}

/** The message of a failed action; field errors are shown next to their inputs as well. */
export function ActionError({ state }: { state: ActionResult<unknown> | null | undefined }) {
  if (!state || state.ok) return null;
  const formErrors = state.fieldErrors?._form;
  return (
    <Alert tone="error">
      {state.error.message}
      {formErrors && formErrors.length > 0 ? <span className="block">{formErrors.join(' ')}</span> : null}
    </Alert>
  );
}

/** The data of a successful action, or undefined. */
export function actionData<T>(state: ActionResult<T> | null | undefined): T | undefined {
  return state && state.ok ? state.data : undefined;
}
