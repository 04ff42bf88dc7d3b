import type { Metadata } from 'next';
import { Card } from '@/components/ui/card';
import { PageHeader } from '@/components/ui/page-header';
import { requireOrgRole } from '@/lib/auth/authorize';
import { can, rolesAssignableBy } from '@/lib/auth/permissions';
import { db } from '@/lib/db/client';
import { getLedgerContext } from '@/lib/ledger/context';
import { listMemberBalances } from '@/lib/ledger/summary';
import { formatCredits } from '@/lib/money/credits';
import { listInvitations } from '@/lib/orgs/invitations';
import { listMembers } from '@/lib/orgs/orgs';
import { BulkAllocation } from './bulk-allocation';
import { InvitationsTable } from './invitations-table';
import { InviteForm } from './invite-form';
import { MembersTable } from './members-table';

export const metadata: Metadata = { title: 'Users' };

export default async function UsersPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const ctx = await requireOrgRole(slug, 'users:manage');
  const [members, invitations, balances] = await Promise.all([
    listMembers(db, ctx.org.id),
    listInvitations(db, ctx.org.id),
    listMemberBalances(getLedgerContext(), ctx.org.id),
  ]);
  const assignable = rolesAssignableBy(ctx.membership.role);
  const manageCredits = can(ctx.membership.role, 'pool:manage');

  return (
    <>
      <PageHeader title="Users" description={`The people in ${ctx.org.name}, their roles, and pending invitations.`} />
      <div className="space-y-8">
        <Card title="Invite someone" description="They receive a link to join with the role you choose.">
          <InviteForm orgSlug={ctx.org.slug} roles={assignable} />
        </Card>

        <section aria-labelledby="members-heading" className="space-y-3">
          <h2 id="members-heading" className="text-lg font-semibold text-zinc-900">
            Members <span className="text-sm font-normal text-zinc-500">({members.length})</span>
          </h2>
          <MembersTable
            orgSlug={ctx.org.slug}
            currentUserId={ctx.user.id}
            assignableRoles={assignable}
            manageCredits={manageCredits}
            members={members.map((m) => {
              const balance = balances.get(m.membershipId);
              return {
                membershipId: m.membershipId,
                userId: m.userId,
                name: m.name,
                email: m.email,
                role: m.role,
                joinedAt: m.joinedAt.toISOString(),
                available: formatCredits(balance?.available ?? 0n),
                reserved: formatCredits(balance?.held ?? 0n),
              };
            })}
          />
        </section>

        {manageCredits ? (
          <Card
            title="Bulk allocation"
            description="Allocate credits from the pool to many members at once with a CSV file of user,amount rows. A user is a member's email, user id or external id; the header row is optional."
          >
            <BulkAllocation orgSlug={ctx.org.slug} />
          </Card>
        ) : null}

        <section aria-labelledby="invitations-heading" className="space-y-3">
          <h2 id="invitations-heading" className="text-lg font-semibold text-zinc-900">
            Invitations
          </h2>
          <InvitationsTable
            orgSlug={ctx.org.slug}
            invitations={invitations.map((i) => ({
              id: i.id,
              email: i.email,
              role: i.role,
              status: i.status,
              expiresAt: i.expiresAt.toISOString(),
              createdAt: i.createdAt.toISOString(),
              invitedBy: i.invitedBy ? (i.invitedBy.name ?? i.invitedBy.email) : null,
            }))}
          />
        </section>
      </div>
    </>
  );
}
