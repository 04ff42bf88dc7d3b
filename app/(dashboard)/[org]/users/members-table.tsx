'use client';

import Link from 'next/link';
import { useActionState } from 'react';
import { showCredits } from '@/components/ledger/credits';
import { ActionError } from '@/components/ui/action-feedback';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { formatDate } from '@/components/ui/format';
import { Table, Td, Th } from '@/components/ui/table';
import type { Role } from '@/lib/generated/prisma/enums';
import { MemberCreditsForm } from '../pool/member-credits-form';
import { changeMemberRoleAction, removeMemberAction } from './actions';

export type MemberItem = {
  membershipId: string;
  userId: string;
  name: string | null;
  email: string | null;
  role: Role;
  joinedAt: string;
  /** The member's allocation, as decimal strings of credits. */
  available: string;
  reserved: string;
};

const roleLabels: Record<Role, string> = { owner: 'Owner', admin: 'Admin', billing: 'Billing', member: 'Member' };

function MemberActions({ orgSlug, member, roles }: { orgSlug: string; member: MemberItem; roles: Role[] }) {
  const [roleState, roleAction, rolePending] = useActionState(changeMemberRoleAction, null);
  const [removeState, removeAction, removePending] = useActionState(removeMemberAction, null);
  const who = member.name || member.email || 'this member';
  const selectId = `role-${member.membershipId}`;

  return (
    <div className="space-y-2">
      <div className="flex flex-wrap items-center gap-2">
        <form action={roleAction} className="flex items-center gap-2">
          <input type="hidden" name="org" value={orgSlug} />
          <input type="hidden" name="membershipId" value={member.membershipId} />
          <label htmlFor={selectId} className="sr-only">
            Role of {who}
          </label>
          <select
            id={selectId}
            name="role"
            defaultValue={member.role}
            className="h-8 rounded-md border border-zinc-300 bg-white px-2 text-sm"
          >
            {roles.map((r) => (
              <option key={r} value={r}>
                {roleLabels[r]}
              </option>
            ))}
          </select>
          <Button type="submit" variant="secondary" size="sm" pending={rolePending} aria-label={`Change role of ${who}`}>
            Change role
          </Button>
        </form>
        <form
          action={removeAction}
          onSubmit={(e) => {
            if (!window.confirm(`Remove ${who} from the organization?`)) e.preventDefault();
          }}
        >
          <input type="hidden" name="org" value={orgSlug} />
          <input type="hidden" name="membershipId" value={member.membershipId} />
          <Button type="submit" variant="danger" size="sm" pending={removePending} aria-label={`Remove ${who}`}>
            Remove
          </Button>
        </form>
      </div>
      <ActionError state={roleState} />
      <ActionError state={removeState} />
    </div>
  );
}

type MembersTableProps = {
  orgSlug: string;
  currentUserId: string;
  assignableRoles: Role[];
  members: MemberItem[];
  /** Whether the viewer may allocate and reclaim credits. */
  manageCredits: boolean;
};

export function MembersTable({ orgSlug, currentUserId, assignableRoles, members, manageCredits }: MembersTableProps) {
  return (
    <Table caption="Members">
      <thead>
        <tr>
          <Th>Name</Th>
          <Th>Email</Th>
          <Th>Role</Th>
          <Th className="text-right">Available</Th>
          <Th className="text-right">Reserved</Th>
          {manageCredits ? <Th>Credits</Th> : null}
          <Th>Joined</Th>
          <Th>
            <span className="sr-only">Actions</span>
          </Th>
        </tr>
      </thead>
      <tbody className="divide-y divide-zinc-100">
        {members.map((m) => {
          const isSelf = m.userId === currentUserId;
          // Only members whose role the actor could grant can be changed or removed by them.
          const manageable = !isSelf && assignableRoles.includes(m.role);
          return (
            <tr key={m.membershipId}>
              <Td className="font-medium">
                <Link href={`/${orgSlug}/users/${m.membershipId}`} className="rounded-sm text-accent-700 hover:underline">
                  {m.name || 'No name'}
                </Link>
                {isSelf ? (
                  <span className="ml-2">
                    <Badge>You</Badge>
                  </span>
                ) : null}
              </Td>
              <Td>{m.email ?? <span className="text-zinc-500">No email</span>}</Td>
              <Td>
                <Badge tone={m.role === 'owner' || m.role === 'admin' ? 'accent' : 'neutral'}>{roleLabels[m.role]}</Badge>
              </Td>
              <Td className="text-right tabular-nums">{showCredits(m.available)}</Td>
              <Td className="text-right tabular-nums">{showCredits(m.reserved)}</Td>
              {manageCredits ? (
                <Td>
                  <MemberCreditsForm orgSlug={orgSlug} member={{ value: m.userId, label: m.name || m.email || 'this member' }} compact />
                </Td>
              ) : null}
              <Td className="whitespace-nowrap">{formatDate(m.joinedAt)}</Td>
              <Td>{manageable ? <MemberActions orgSlug={orgSlug} member={m} roles={assignableRoles} /> : null}</Td>
            </tr>
          );
        })}
      </tbody>
    </Table>
  );
}
