/**
 * Dashboard JSON routes under /api/orgs/[org]/...: the signed-in user's session, authorized for the org in the
 * route params with the same rules as pages and server actions.
 */
import { authorizeOrg, type OrgContext } from '../auth/authorize.ts';
import type { Permission } from '../auth/permissions.ts';
import { AppError } from './errors.ts';
import { route, type RouteHandler } from './route.ts';

export type SessionRouteContext<P extends { org: string }> = OrgContext & { requestId: string; params: P };

export function withSession<P extends { org: string } = { org: string }>(
  permission: Permission,
  handler: (req: Request, ctx: SessionRouteContext<P>) => Promise<Response>,
): RouteHandler<P> {
  return route<P>(async (req, { requestId, params, log }) => {
    if (typeof params.org !== 'string') throw new AppError('not_found', 'Not found');
    const ctx = await authorizeOrg(params.org, permission);
    log.setBindings({ orgId: ctx.org.id, userId: ctx.user.id });
    return handler(req, { ...ctx, requestId, params });
  });
}
