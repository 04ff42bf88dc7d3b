'use client';

import { Badge } from '@/components/ui/badge';
import { ConfirmActionForm } from '@/components/ui/confirm-action';
import { formatDate, formatDateTime } from '@/components/ui/format';
import { Table, Td, Th } from '@/components/ui/table';
import { revokeApiKeyAction } from './actions';

export type ApiKeyItem = {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
};

function RevokeKeyButton({ orgSlug, apiKey }: { orgSlug: string; apiKey: ApiKeyItem }) {
  return (
    <ConfirmActionForm
      action={revokeApiKeyAction}
      fields={{ org: orgSlug, apiKeyId: apiKey.id }}
      confirm={`Revoke the key "${apiKey.name}"? Requests using it will fail at once.`}
      label="Revoke"
      ariaLabel={`Revoke key ${apiKey.name}`}
    />
  );
}

export function ApiKeysTable({ orgSlug, keys }: { orgSlug: string; keys: ApiKeyItem[] }) {
  if (keys.length === 0) {
    return (
      <p className="rounded-lg border border-dashed border-zinc-300 bg-white px-4 py-6 text-sm text-zinc-600">
        No API keys yet. Create one above for your LLM backend.
      </p>
    );
  }
  return (
    <Table caption="API keys">
      <thead>
        <tr>
          <Th>Name</Th>
          <Th>Prefix</Th>
          <Th>Scopes</Th>
          <Th>Created</Th>
          <Th>Last used</Th>
          <Th>Status</Th>
          <Th>
            <span className="sr-only">Actions</span>
          </Th>
        </tr>
      </thead>
      <tbody className="divide-y divide-zinc-100">
        {keys.map((k) => (
          <tr key={k.id}>
            <Td className="font-medium">{k.name}</Td>
            <Td>
              <code className="rounded bg-zinc-100 px-1.5 py-0.5 font-mono text-xs">{k.prefix}…</code>
            </Td>
            <Td>
              <span className="flex flex-wrap gap-1">
                {k.scopes.map((s) => (
                  <Badge key={s}>{s}</Badge>
                ))}
              </span>
            </Td>
            <Td className="whitespace-nowrap">{formatDate(k.createdAt)}</Td>
            <Td className="whitespace-nowrap">{k.lastUsedAt ? formatDateTime(k.lastUsedAt) : 'Never'}</Td>
            <Td>{k.revokedAt ? <Badge tone="danger">Revoked</Badge> : <Badge tone="success">Active</Badge>}</Td>
            <Td>{k.revokedAt ? null : <RevokeKeyButton orgSlug={orgSlug} apiKey={k} />}</Td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}
