'use client';

import { useActionState } from 'react';
import { ActionError } from '@/components/ui/action-feedback';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { ConfirmActionForm } from '@/components/ui/confirm-action';
import { formatDateTime } from '@/components/ui/format';
import { Table, Td, Th } from '@/components/ui/table';
import { deleteUpstreamAction, setUpstreamEnabledAction } from './actions';
import { UpstreamForm, type UpstreamItem } from './upstream-form';

function ToggleButton({ orgSlug, upstream }: { orgSlug: string; upstream: UpstreamItem }) {
  const [state, action, pending] = useActionState(setUpstreamEnabledAction, null);
  return (
    <form action={action} className="space-y-2">
      <input type="hidden" name="org" value={orgSlug} />
      <input type="hidden" name="upstreamId" value={upstream.id} />
      <input type="hidden" name="enabled" value={upstream.enabled ? 'false' : 'true'} />
      <Button type="submit" variant="secondary" size="sm" pending={pending} aria-label={`${upstream.enabled ? 'Disable' : 'Enable'} upstream ${upstream.name}`}>
        {upstream.enabled ? 'Disable' : 'Enable'}
      </Button>
      <ActionError state={state} />
    </form>
  );
}

function DeleteButton({ orgSlug, upstream }: { orgSlug: string; upstream: UpstreamItem }) {
  return (
    <ConfirmActionForm
      action={deleteUpstreamAction}
      fields={{ org: orgSlug, upstreamId: upstream.id }}
      confirm={`Delete the upstream "${upstream.name}"? Its models go to the default upstream.`}
      label="Delete"
      ariaLabel={`Delete upstream ${upstream.name}`}
    />
  );
}

export function UpstreamsTable({ orgSlug, upstreams }: { orgSlug: string; upstreams: UpstreamItem[] }) {
  if (upstreams.length === 0) {
    return (
      <p className="rounded-lg border border-dashed border-zinc-300 bg-white px-4 py-6 text-sm text-zinc-600">
        No upstreams of your own yet: the proxy forwards every model to the default upstream of this installation.
      </p>
    );
  }
  return (
    <Table caption="Upstreams">
      <thead>
        <tr>
          <Th>Name</Th>
          <Th>Base URL</Th>
          <Th>Key</Th>
          <Th>Models</Th>
          <Th>Status</Th>
          <Th>Updated</Th>
          <Th>
            <span className="sr-only">Actions</span>
          </Th>
        </tr>
      </thead>
      <tbody className="divide-y divide-zinc-100">
        {upstreams.map((u) => (
          <tr key={u.id} className="align-top">
            <Td className="font-medium">{u.name}</Td>
            <Td>
              <code className="font-mono text-xs">{u.baseUrl}</code>
            </Td>
            <Td>
              <code className="rounded bg-zinc-100 px-1.5 py-0.5 font-mono text-xs">…{u.apiKeyLast4}</code>
            </Td>
            <Td>
              <span className="flex flex-wrap gap-1">
                {u.modelPatterns.map((p) => (
                  <Badge key={p}>{p}</Badge>
                ))}
              </span>
            </Td>
            <Td>{u.enabled ? <Badge tone="success">Enabled</Badge> : <Badge tone="danger">Disabled</Badge>}</Td>
            <Td className="whitespace-nowrap">{formatDateTime(u.updatedAt)}</Td>
            <Td>
              <div className="flex flex-col gap-2">
                <details>
                  <summary className="cursor-pointer text-sm text-accent-700">Edit</summary>
                  <div className="mt-3 min-w-[32rem]">
                    <UpstreamForm orgSlug={orgSlug} upstream={u} />
                  </div>
                </details>
                <ToggleButton orgSlug={orgSlug} upstream={u} />
                <DeleteButton orgSlug={orgSlug} upstream={u} />
              </div>
            </Td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}
