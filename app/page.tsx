import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { orgHomeHref } from '@/components/shell/nav';
import { SignOutButton } from '@/components/shell/sign-out-button';
import { listOrgsForUser } from '@/lib/auth/authorize';
import { getSessionUser } from '@/lib/auth/session';

export const metadata: Metadata = { title: 'Credits' };

/** The entry point: sends each user to the first place they may see. */
export default async function HomePage() {
  const user = await getSessionUser();
  if (!user) redirect('/sign-in');
  const orgs = await listOrgsForUser(user.id);
  const first = orgs[0];
  if (first) redirect(orgHomeHref(first.role, first.slug));

  return (
    <main id="main-content" className="grid min-h-dvh place-items-center px-4 py-12">
      <div className="w-full max-w-md rounded-lg border border-zinc-200 bg-white p-8 shadow-sm">
        <h1 className="text-xl font-semibold text-zinc-900">You are not a member of any organization yet</h1>
        <p className="mt-2 text-sm text-zinc-600">
          Signed in as {user.email ?? user.name ?? 'a user without an email'}. Ask an owner or admin of your
          organization for an invitation link, then open it while signed in to join.
        </p>
        <div className="mt-6 max-w-40">
          <SignOutButton />
        </div>
      </div>
    </main>
  );
}
