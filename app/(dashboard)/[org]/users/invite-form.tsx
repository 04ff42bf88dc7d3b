'use client';

import { useActionState } from 'react';
import { ActionError, actionData, fieldErrorsOf } from '@/components/ui/action-feedback';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { CopyField } from '@/components/ui/copy-field';
import { SelectField, TextField } from '@/components/ui/field';
import { useFormValues } from '@/components/ui/use-form-values';
import type { Role } from '@/lib/generated/prisma/enums';
import { inviteMemberAction } from './actions';

const roleLabels: Record<Role, string> = { owner: 'Owner', admin: 'Admin', billing: 'Billing', member: 'Member' };

export function InviteForm({ orgSlug, roles }: { orgSlug: string; roles: Role[] }) {
  const [state, formAction, pending] = useActionState(inviteMemberAction, null);
  const { values, onSubmit } = useFormValues();
  const errors = fieldErrorsOf(state);
  const created = actionData(state);
  const defaultRole = roles.includes('member') ? 'member' : roles[0];
  // After a failure the form shows what was typed; after a success it is ready for the next invitation.
  const kept = state && !state.ok ? values : {};

  return (
    <div className="space-y-4">
      <form
        action={formAction}
        onSubmit={onSubmit}
        className="grid gap-4 sm:grid-cols-[minmax(0,1fr)_12rem_auto] sm:items-start"
        noValidate
      >
        <input type="hidden" name="org" value={orgSlug} />
        <TextField
          key={`email-${kept.email ?? ''}`}
          label="Email"
          name="email"
          type="email"
          autoComplete="off"
          required
          defaultValue={kept.email}
          errors={errors.email}
          placeholder="name@example.com"
        />
        <SelectField
          key={`role-${kept.role ?? defaultRole}`}
          label="Role"
          name="role"
          defaultValue={kept.role ?? defaultRole}
          errors={errors.role}
          options={roles.map((r) => ({ value: r, label: roleLabels[r] }))}
        />
        <div className="sm:pt-7">
          <Button type="submit" pending={pending} className="w-full sm:w-auto">
            Send invitation
          </Button>
        </div>
      </form>
      <ActionError state={state} />
      {created ? (
        <div className="space-y-3">
          <Alert tone="success">
            Invitation created for {created.email} as {roleLabels[created.role]}. Send them this link: it is shown only
            now.
          </Alert>
          <CopyField label="Invitation link" value={created.link} />
        </div>
      ) : null}
    </div>
  );
}
