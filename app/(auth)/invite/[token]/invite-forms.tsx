'use client';

import { signIn } from 'next-auth/react';
import { useRouter } from 'next/navigation';
import { useActionState } from 'react';
import { ActionError, fieldErrorsOf } from '@/components/ui/action-feedback';
import { Button } from '@/components/ui/button';
import { TextField } from '@/components/ui/field';
import { useFormValues } from '@/components/ui/use-form-values';
import type { ActionResult } from '@/lib/auth/action';
import { acceptInvitationAction, acceptInvitationAsNewUserAction } from './actions';

type JoinState = ActionResult<{ email: string; orgSlug: string }> | null;

/** Signed out: create the account with the invited email, then sign in with it. */
export function NewUserInvitationForm({ token, email }: { token: string; email: string }) {
  const router = useRouter();
  const { values, onSubmit } = useFormValues();

  const [state, formAction, pending] = useActionState<JoinState, FormData>(async (prev, formData) => {
    const result = await acceptInvitationAsNewUserAction(prev, formData);
    if (!result.ok || !result.data) return result;
    const signedIn = await signIn('credentials', {
      redirect: false,
      email: result.data.email || email,
      password: String(formData.get('password') ?? ''),
    });
    if (!signedIn?.ok) {
      return {
        ok: false,
        error: { code: 'unauthenticated', message: 'Your account was created, but signing in failed. Sign in with your new password.' },
      };
    }
    router.replace('/');
    router.refresh();
    return result;
  }, null);

  const errors = fieldErrorsOf(state);
  const kept = state && !state.ok ? values : {};

  return (
    <form action={formAction} onSubmit={onSubmit} className="space-y-4" noValidate>
      <input type="hidden" name="token" value={token} />
      <TextField label="Email" name="invitedEmail" type="email" value={email} readOnly hint="The invitation was sent to this address." />
      <TextField key={`n-${kept.name ?? ''}`} label="Name" name="name" autoComplete="name" required defaultValue={kept.name} errors={errors.name} />
      <TextField
        label="Password"
        name="password"
        type="password"
        autoComplete="new-password"
        required
        minLength={10}
        errors={errors.password}
        hint="At least 10 characters."
      />
      <ActionError state={state} />
      <Button type="submit" pending={pending || Boolean(state?.ok)} className="w-full">
        Create account and join
      </Button>
    </form>
  );
}

/** Signed in with the invited email: one click to join. */
export function AcceptInvitationForm({ token }: { token: string }) {
  const router = useRouter();
  const [state, formAction, pending] = useActionState<ActionResult<{ orgSlug: string }> | null, FormData>(
    async (prev, formData) => {
      const result = await acceptInvitationAction(prev, formData);
      if (result.ok) {
        router.replace('/');
        router.refresh();
      }
      return result;
    },
    null,
  );

  return (
    <form action={formAction} className="space-y-4">
      <input type="hidden" name="token" value={token} />
      <ActionError state={state} />
      <Button type="submit" pending={pending || Boolean(state?.ok)} className="w-full">
        Accept invitation
      </Button>
    </form>
  );
}
