import type { Metadata } from 'next';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { authOptions, getSessionUser } from '@/lib/auth/session';
import { safeCallbackUrl } from '../callback-url';
import { SignInForm } from './sign-in-form';

export const metadata: Metadata = { title: 'Sign in' };

type SignInPageProps = { searchParams: Promise<Record<string, string | string[] | undefined>> };

/** Messages for the `error` codes next-auth puts in the URL when a sign-in through a provider fails. */
const providerErrors: Record<string, string> = {
  OAuthAccountNotLinked:
    'This email already belongs to an account. Sign in with your password, or use a provider that has verified the email.',
  OAuthSignin: 'Could not start signing in with that provider. Try again.',
  OAuthCallback: 'Signing in with that provider failed. Try again.',
  AccessDenied: 'Access was denied.',
  CredentialsSignin: 'Invalid email or password',
  SessionRequired: 'Sign in to continue.',
};

export default async function SignInPage({ searchParams }: SignInPageProps) {
  const params = await searchParams;
  const callbackUrl = safeCallbackUrl(params.callbackUrl);
  if (await getSessionUser()) redirect(callbackUrl);

  const providers = authOptions.providers
    .filter((p) => p.type === 'oauth')
    .map((p) => ({ id: p.id, name: p.name }));
  const errorCode = typeof params.error === 'string' ? params.error : undefined;
  const initialError = errorCode ? (providerErrors[errorCode] ?? 'Signing in failed. Try again.') : undefined;

  return (
    <>
      <h1 className="text-xl font-semibold text-zinc-900">Sign in</h1>
      <p className="mt-1 text-sm text-zinc-600">Use the email and password of your Credits account.</p>
      <div className="mt-6">
        <SignInForm callbackUrl={callbackUrl} providers={providers} initialError={initialError} />
      </div>
      <p className="mt-6 text-sm text-zinc-600">
        No account yet?{' '}
        <Link href="/sign-up" className="rounded-sm font-medium text-accent-700 hover:underline">
          Create an organization
        </Link>
      </p>
    </>
  );
}
