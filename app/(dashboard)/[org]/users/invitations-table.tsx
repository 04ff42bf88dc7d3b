'use client';

import { useActionState } from 'react';
import { ActionError } from '@/components/ui/action-feedback';
import { Badge, type BadgeTone } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { formatDate, formatDateTime } from '@/components/ui/format';
import { Table, Td, Th } from '@/components/ui/table';
import type { InvitationStatus } from '@/lib/orgs/invitations';
import type { Role } from '@/lib/generated/prisma/enums';
import { revokeInvitationAction } from './actions';

export type InvitationItem = {
  id: string;
  email: string;
  role: Role;
  status: InvitationStatus;
  expiresAt: string;
  createdAt: string;
  invitedBy: string | null;
};

const statusTones: Record<InvitationStatus, BadgeTone> = {
  pending: 'warning',
  accepted: 'success',
  expired: 'neutral',
  revoked: 'danger',
};

const statusLabels: Record<InvitationStatus, string> = {
  pending: 'Pending',
  accepted: 'Accepted',
  expired: 'Expired',
  revoked: 'Revoked',
};

function RevokeButton({ orgSlug, invitation }: { orgSlug: string; invitation: InvitationItem }) {
  const [state, action, pending] = useActionState(revokeInvitationAction, null);
  return (
    <form action={action} className="space-y-2">
      <input type="hidden" name="org" value={orgSlug} />
      <input type="hidden" name="invitationId" value={invitation.id} />
      <Button type="submit" variant="danger" size="sm" pending={pending} aria-label={`Revoke invitation for ${invitation.email}`}>
        Revoke
      </Button>
      <ActionError state={state} />
    </form>
  );
}

export function InvitationsTable({ orgSlug, invitations }: { orgSlug: string; invitations: InvitationItem[] }) {
  if (invitations.length === 0) {
    return <p className="rounded-lg border border-dashed border-zinc-300 bg-white px-4 py-6 text-sm text-zinc-600">No invitations sent yet.</p>;
  }
  return (
    <Table caption="Invitations">
      <thead>
        <tr>
          <Th>Email</Th>
          <Th>Role</Th>
          <Th>Status</Th>
          <Th>Sent</Th>
          <Th>Expires</Th>
          <Th>
            <span className="sr-only">Actions</span>
          </Th>
        </tr>
      </thead>
      <tbody className="divide-y divide-zinc-100">
        {invitations.map((inv) => (
          <tr key={inv.id}>
            <Td className="font-medium">{inv.email}</Td>
            <Td className="capitalize">{inv.role}</Td>
            <Td>
              <Badge tone={statusTones[inv.status]}>{statusLabels[inv.status]}</Badge>
            </Td>
            <Td className="whitespace-nowrap">
              {formatDate(inv.createdAt)}
              {inv.invitedBy ? <span className="block text-xs text-zinc-500">by {inv.invitedBy}</span> : null}
            </Td>
            <Td className="whitespace-nowrap">{inv.status === 'pending' ? formatDateTime(inv.expiresAt) : '—'}</Td>
            <Td>{inv.status === 'pending' ? <RevokeButton orgSlug={orgSlug} invitation={inv} /> : null}</Td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}
