'use client';

import { signIn } from 'next-auth/react';
import { useRouter } from 'next/navigation';
import { useActionState } from 'react';
import { ActionError, fieldErrorsOf } from '@/components/ui/action-feedback';
import { Button } from '@/components/ui/button';
import { TextField } from '@/components/ui/field';
import { useFormValues } from '@/components/ui/use-form-values';
import type { ActionResult } from '@/lib/auth/action';
import { signUpAction } from './actions';

type SignUpState = ActionResult<{ slug: string }> | null;

export function SignUpForm() {
  const router = useRouter();
  const { values, onSubmit } = useFormValues();

  const [state, formAction, pending] = useActionState<SignUpState, FormData>(async (prev, formData) => {
    const result = await signUpAction(prev, formData);
    if (!result.ok || !result.data) return result;
    const signedIn = await signIn('credentials', {
      redirect: false,
      email: String(formData.get('email') ?? ''),
      password: String(formData.get('password') ?? ''),
    });
    if (!signedIn?.ok) {
      return {
        ok: false,
        error: { code: 'unauthenticated', message: 'Your account was created, but signing in failed. Sign in with your new password.' },
      };
    }
    router.replace(`/${result.data.slug}`);
    router.refresh();
    return result;
  }, null);

  const errors = fieldErrorsOf(state);
  const kept = state && !state.ok ? values : {};

  return (
    <form action={formAction} onSubmit={onSubmit} className="space-y-4" noValidate>
      <TextField key={`n-${kept.name ?? ''}`} label="Name" name="name" autoComplete="name" required defaultValue={kept.name} errors={errors.name} />
      <TextField
        key={`e-${kept.email ?? ''}`}
        label="Email"
        name="email"
        type="email"
        autoComplete="email"
        required
        defaultValue={kept.email}
        errors={errors.email}
      />
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
      <TextField
        key={`o-${kept.orgName ?? ''}`}
        label="Organization name"
        name="orgName"
        autoComplete="organization"
        required
        defaultValue={kept.orgName}
        errors={errors.orgName}
      />
      <ActionError state={state} />
      <Button type="submit" pending={pending || Boolean(state?.ok)} className="w-full">
        Create account
      </Button>
    </form>
  );
}
