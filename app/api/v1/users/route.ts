import { z } from 'zod';
import { db } from '@/lib/db/client.ts';
import { readIdempotency, withIdempotentEffect } from '@/lib/http/idempotency.ts';
import { json, readJson } from '@/lib/http/route.ts';
import { withApiKey } from '@/lib/http/with-api-key.ts';
import { listMembers } from '@/lib/orgs/orgs.ts';
import { createUser, emailSchema, externalIdSchema, userNameSchema } from '@/lib/users/create-user.ts';

/** Every field is optional: a user given neither email nor external id is named by the id the answer gives. */
const createUserBodySchema = z.object({
  email: emailSchema.nullish(),
  name: userNameSchema.nullish(),
  external_id: externalIdSchema.nullish(),
});

type UserDto = {
  id: string;
  email: string | null;
  name: string | null;
  external_id: string | null;
  role: string;
  created_at: string;
};

/** Registers one of the backend's end users as a member of the key's org. */
export const POST = withApiKey(['admin'], async (req, { org, apiKey }) => {
  const body = await readJson(req, createUserBodySchema);
  const answer = await withIdempotentEffect(db, org.id, readIdempotency(req, body), async (tx) => {
    const { user, membership } = await createUser(
      tx,
      {
        email: body.email ?? null,
        name: body.name ?? null,
        externalId: body.external_id ?? null,
        org: { id: org.id, role: 'member' },
      },
      { type: 'api_key', apiKeyId: apiKey.id },
    );
    const dto: UserDto = {
      id: user.id,
      email: user.email,
      name: user.name,
      external_id: membership?.externalId ?? null,
      role: membership?.role ?? 'member',
      created_at: (membership?.createdAt ?? user.createdAt).toISOString(),
    };
    return { status: 201, body: dto };
  });
  return json(answer.body, answer.status);
});

export const GET = withApiKey(['admin', 'read'], async (_req, { org }) => {
  const members = await listMembers(db, org.id);
  const data: UserDto[] = members.map((m) => ({
    id: m.userId,
    email: m.email,
    name: m.name,
    external_id: m.externalId,
    role: m.role,
    created_at: m.joinedAt.toISOString(),
  }));
  return json({ data });
});
