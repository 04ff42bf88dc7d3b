import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/client.ts';
import { useTestDatabase } from '../test/db-harness.ts';
import { createUser } from '../users/create-user.ts';
import {
  acceptInvitation,
  createInvitation,
  getInvitationByToken,
  hashInvitationToken,
  listInvitations,
  revokeInvitation,
} from './invitations.ts';

let db: Db;
let org: { id: string; slug: string };
let inviterId: string;
const password = 'a long enough password';

beforeAll(async () => {
  db = (await useTestDatabase()).db;
  org = await db.org.create({ data: { slug: 'acme', name: 'Acme' } });
  const { user } = await createUser(db, { email: 'owner@acme.test', org: { id: org.id, role: 'owner' } }, { type: 'system' });
  inviterId = user.id;
});

afterAll(async () => {
  await db.$disconnect();
});

const invite = (email: string, role: 'owner' | 'admin' | 'billing' | 'member' = 'member', actorRole: 'owner' | 'admin' | 'billing' | 'member' = 'owner') =>
  createInvitation(db, { orgId: org.id, email, role, invitedById: inviterId, ttlHours: 24 }, actorRole);

async function expire(invitationId: string) {
  await db.$executeRaw`UPDATE invitations SET expires_at = now() - interval '1 second' WHERE id = ${invitationId}::uuid`;
}

describe('createInvitation', () => {
  it('returns a link token once and stores only its hash', async () => {
    const { invitation, token, path } = await invite('New.Person@Example.com', 'billing');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(path).toBe(`/invite/${token}`);
    expect(invitation.email).toBe('new.person@example.com');
    const [row] = await db.$queryRaw<{ row: string }[]>`
      SELECT row_to_json(i)::text AS row FROM invitations i WHERE id = ${invitation.id}::uuid`;
    expect(row!.row).not.toContain(token);
    expect(row!.row).toContain(hashInvitationToken(token));
    const hours = (invitation.expiresAt.getTime() - invitation.createdAt.getTime()) / 3_600_000;
    expect(hours).toBeCloseTo(24, 1);
  });

  it('only offers roles the inviter may assign', async () => {
    await expect(invite('boss@example.com', 'owner', 'admin')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(invite('someone@example.com', 'member', 'billing')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(invite('admin2@example.com', 'admin', 'admin')).resolves.toBeTruthy();
  });

  it('refuses to invite someone who is already a member', async () => {
    await expect(invite('OWNER@acme.test')).rejects.toMatchObject({ code: 'conflict' });
  });

  it('makes a new invitation to the same email replace the pending one', async () => {
    const first = await invite('twice@example.com');
    await invite('twice@example.com');
    await expect(getInvitationByToken(db, first.token)).rejects.toMatchObject({
      code: 'conflict',
      details: { reason: 'revoked' },
    });
  });
});

describe('getInvitationByToken', () => {
  it('finds a pending invitation with its org', async () => {
    const { token } = await invite('lookup@example.com');
    const found = await getInvitationByToken(db, token);
    expect(found.org).toEqual({ id: org.id, slug: 'acme', name: 'Acme' });
    expect(found.invitation.email).toBe('lookup@example.com');
  });

  it('distinguishes unknown, expired and revoked links', async () => {
    await expect(getInvitationByToken(db, 'nope')).rejects.toMatchObject({ code: 'not_found' });
    const expired = await invite('late@example.com');
    await expire(expired.invitation.id);
    await expect(getInvitationByToken(db, expired.token)).rejects.toMatchObject({ code: 'conflict', details: { reason: 'expired' } });
    const revoked = await invite('unwanted@example.com');
    await revokeInvitation(db, org.id, revoked.invitation.id);
    await expect(getInvitationByToken(db, revoked.token)).rejects.toMatchObject({ code: 'conflict', details: { reason: 'revoked' } });
  });
});

describe('acceptInvitation', () => {
  it('creates the invited user with the invited email and role, once', async () => {
    const { token } = await invite('joiner@example.com', 'admin');
    const result = await acceptInvitation(db, token, { name: 'Joiner', password });
    expect(result.org.slug).toBe('acme');
    expect(result.user.email).toBe('joiner@example.com');
    const membership = await db.membership.findFirstOrThrow({ where: { orgId: org.id, userId: result.user.id } });
    expect(membership.role).toBe('admin');
    await expect(acceptInvitation(db, token, { name: 'Again', password })).rejects.toMatchObject({
      code: 'conflict',
      details: { reason: 'accepted' },
    });
  });

  it('lets exactly one of several simultaneous acceptances win', async () => {
    const { token } = await invite('racer@example.com');
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => acceptInvitation(db, token, { name: `Racer ${i}`, password })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'conflict', details: { reason: 'accepted' } });
    }
    expect(await db.user.count({ where: { email: 'racer@example.com' } })).toBe(1);
  });

  it('refuses expired and revoked invitations', async () => {
    const expired = await invite('slow@example.com');
    await expire(expired.invitation.id);
    await expect(acceptInvitation(db, expired.token, { name: 'Slow', password })).rejects.toMatchObject({
      details: { reason: 'expired' },
    });
    const revoked = await invite('revoked@example.com');
    await revokeInvitation(db, org.id, revoked.invitation.id);
    await expect(acceptInvitation(db, revoked.token, { name: 'R', password })).rejects.toMatchObject({
      details: { reason: 'revoked' },
    });
    expect(await db.user.count({ where: { email: { in: ['slow@example.com', 'revoked@example.com'] } } })).toBe(0);
  });

  it('adds a signed-in user whose email matches, and refuses one whose email does not', async () => {
    const other = await db.org.create({ data: { slug: 'other', name: 'Other' } });
    const { user: existing } = await createUser(db, { email: 'existing@example.com', org: { id: other.id, role: 'owner' } }, { type: 'system' });
    const { user: stranger } = await createUser(db, { email: 'stranger@example.com' }, { type: 'system' });
    const { token } = await invite('existing@example.com', 'billing');

    await expect(acceptInvitation(db, token, { userId: stranger.id })).rejects.toMatchObject({ code: 'forbidden' });
    // The refused attempt did not use up the invitation.
    await expect(getInvitationByToken(db, token)).resolves.toBeTruthy();

    const result = await acceptInvitation(db, token, { userId: existing.id });
    expect(result.user.id).toBe(existing.id);
    expect(await db.membership.findFirst({ where: { orgId: org.id, userId: existing.id } })).toMatchObject({ role: 'billing' });
  });

  it('rejects a too short password without using the invitation', async () => {
    const { token } = await invite('weak@example.com');
    await expect(acceptInvitation(db, token, { name: 'Weak', password: 'short' })).rejects.toMatchObject({
      code: 'validation_failed',
    });
    await expect(getInvitationByToken(db, token)).resolves.toBeTruthy();
  });
});

describe('listInvitations and revokeInvitation', () => {
  it('reports each invitation’s status', async () => {
    const pending = await invite('status-pending@example.com');
    const expired = await invite('status-expired@example.com');
    await expire(expired.invitation.id);
    const accepted = await invite('status-accepted@example.com');
    await acceptInvitation(db, accepted.token, { name: 'A', password });
    const revoked = await invite('status-revoked@example.com');
    await revokeInvitation(db, org.id, revoked.invitation.id);

    const byEmail = new Map((await listInvitations(db, org.id)).map((i) => [i.email, i]));
    expect(byEmail.get('status-pending@example.com')?.status).toBe('pending');
    expect(byEmail.get('status-expired@example.com')?.status).toBe('expired');
    expect(byEmail.get('status-accepted@example.com')?.status).toBe('accepted');
    expect(byEmail.get('status-revoked@example.com')?.status).toBe('revoked');
    expect(byEmail.get('status-pending@example.com')?.invitedBy?.id).toBe(inviterId);
    expect(pending.invitation.id).toBe(byEmail.get('status-pending@example.com')?.id);
  });

  it('treats another org’s invitation as not found and cannot revoke an accepted one', async () => {
    const other = await db.org.create({ data: { slug: 'elsewhere', name: 'Elsewhere' } });
    const { invitation } = await invite('private@example.com');
    await expect(revokeInvitation(db, other.id, invitation.id)).rejects.toMatchObject({ code: 'not_found' });
    await expect(revokeInvitation(db, org.id, 'not-a-uuid')).rejects.toMatchObject({ code: 'not_found' });
    const used = await invite('used@example.com');
    await acceptInvitation(db, used.token, { name: 'U', password });
    await expect(revokeInvitation(db, org.id, used.invitation.id)).rejects.toMatchObject({ code: 'conflict' });
  });
});
