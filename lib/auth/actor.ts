/**
 * Who performs a change: a signed-in user, an API key, or the system itself (seed, CLI, invitation
 * acceptance before the user exists). Domain functions take an Actor so that audit rows name the principal
 * without reading requests or sessions.
 */
import type { Db } from '../db/client.ts';
import type { ActorType } from '../generated/prisma/client.ts';

export type Actor = { type: 'user'; userId: string } | { type: 'api_key'; apiKeyId: string } | { type: 'system' };

/** The actor columns of an audit_logs row. */
export function auditActor(actor: Actor): { actorType: ActorType; actorId: string | null } {
  switch (actor.type) {
    case 'user':
      return { actorType: 'user', actorId: actor.userId };
    case 'api_key':
      return { actorType: 'api_key', actorId: actor.apiKeyId };
    case 'system':
      return { actorType: 'system', actorId: null };
  }
}

type AuditWriter = { auditLog: Pick<Db['auditLog'], 'create'> };

export type AuditEntry = {
  orgId: string;
  actor: Actor;
  action: string;
  targetType?: string;
  targetId?: string;
  data?: Record<string, string | number | boolean | null | string[]>;
};

/** Appends one row to the org's audit trail; call it inside the transaction of the change it records. */
export async function recordAudit(db: AuditWriter, entry: AuditEntry): Promise<void> {
  await db.auditLog.create({
    data: {
      orgId: entry.orgId,
      ...auditActor(entry.actor),
      action: entry.action,
      targetType: entry.targetType ?? null,
      targetId: entry.targetId ?? null,
      data: entry.data ?? {},
    },
  });
}
