import type { Metadata } from 'next';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { getSessionUser } from '@/lib/auth/session';
import { SignUpForm } from './sign-up-form';

export const metadata: Metadata = { title: 'Create an account' };

export default async function SignUpPage() {
  if (await getSessionUser()) redirect('/');

  return (
    <>
      <h1 className="text-xl font-semibold text-zinc-900">Create your organization</h1>
      <p className="mt-1 text-sm text-zinc-600">
        You become the owner of a new organization and can invite your team afterwards.
      </p>
      <div className="mt-6">
        <SignUpForm />
      </div>
      <p className="mt-6 text-sm text-zinc-600">
        Already have an account?{' '}
        <Link href="/sign-in" className="rounded-sm font-medium text-accent-700 hover:underline">
          Sign in
        </Link>
      </p>
      <p className="mt-2 text-sm text-zinc-600">Joining an existing organization? Open the invitation link you received.</p>
    </>
  );
}
