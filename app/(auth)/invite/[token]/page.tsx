import type { Metadata } from 'next';
import Link from 'next/link';
import { buttonClass } from '@/components/ui/button';
import { getSessionUser, signInPath } from '@/lib/auth/session';
import { db } from '@/lib/db/client';
import { isAppError } from '@/lib/http/errors';
import { getInvitationByToken } from '@/lib/orgs/invitations';
import { SignOutButton } from '@/components/shell/sign-out-button';
import { AcceptInvitationForm, NewUserInvitationForm } from './invite-forms';

export const metadata: Metadata = { title: 'Invitation' };

const roleLabels = { owner: 'Owner', admin: 'Admin', billing: 'Billing', member: 'Member' } as const;

const unusable: Record<string, { title: string; text: string }> = {
  expired: { title: 'This invitation has expired', text: 'Invitation links work for a limited time. Ask for a new one.' },
  revoked: { title: 'This invitation has been revoked', text: 'Ask the person who invited you for a new link.' },
  accepted: { title: 'This invitation has already been used', text: 'If you joined with it, sign in to continue.' },
  not_found: {
    title: 'This invitation link is not valid',
    text: 'Check that you copied the whole link, or ask for a new one.',
  },
};

function Unusable({ reason }: { reason: keyof typeof unusable }) {
  const message = unusable[reason] ?? unusable.not_found!;
  return (
    <>
      <h1 className="text-xl font-semibold text-zinc-900">{message.title}</h1>
      <p className="mt-2 text-sm text-zinc-600">{message.text}</p>
      <Link href="/sign-in" className={buttonClass('secondary', 'md', 'mt-6')}>
        Go to sign in
      </Link>
    </>
  );
}

async function loadInvitation(token: string) {
  try {
    return { found: await getInvitationByToken(db, token) } as const;
  } catch (err) {
    if (isAppError(err) && err.code === 'not_found') return { reason: 'not_found' } as const;
    if (isAppError(err) && err.code === 'conflict' && typeof err.details?.reason === 'string') {
      return { reason: err.details.reason } as const;
    }
    throw err;
  }
}

export default async function InvitePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const [result, user] = await Promise.all([loadInvitation(token), getSessionUser()]);
  if (!('found' in result) || !result.found) return <Unusable reason={result.reason ?? 'not_found'} />;

  const { invitation, org } = result.found;
  const role = roleLabels[invitation.role];
  const invitePath = `/invite/${encodeURIComponent(token)}`;

  return (
    <>
      <p className="text-sm font-medium text-accent-700">Invitation</p>
      <h1 className="mt-1 text-xl font-semibold text-zinc-900">Join {org.name}</h1>
      <p className="mt-2 text-sm text-zinc-600">
        You are invited to {org.name} with the role <strong className="font-semibold text-zinc-900">{role}</strong>.
      </p>
      <div className="mt-6">
        {user ? (
          user.email?.toLowerCase() === invitation.email.toLowerCase() ? (
            <AcceptInvitationForm token={token} />
          ) : (
            <div className="space-y-3 text-sm text-zinc-700">
              <p>
                This invitation was sent to <strong>{invitation.email}</strong>, but you are signed in as{' '}
                <strong>{user.email ?? user.name}</strong>.
              </p>
              <p>Sign out, then open this link again to join with the invited email.</p>
              <div className="max-w-40">
                <SignOutButton callbackUrl={invitePath} />
              </div>
            </div>
          )
        ) : (
          <>
            <NewUserInvitationForm token={token} email={invitation.email} />
            <p className="mt-6 text-sm text-zinc-600">
              Already have an account with this email?{' '}
              <Link href={signInPath(invitePath)} className="rounded-sm font-medium text-accent-700 hover:underline">
                Sign in to accept
              </Link>
            </p>
          </>
        )}
      </div>
    </>
  );
}
