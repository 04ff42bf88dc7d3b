/**
 * Roles and what they may do: the single permission matrix of the dashboard. Pure data and functions, safe to
 * import from client components (the navigation reads `navSections`). Every check on the server goes through
 * `can()`, called by the authorization helpers in `authorize.ts` and `action.ts`.
 */
import type { Role } from '../generated/prisma/enums.ts';

export type Permission =
  | 'overview:view'
  | 'pool:view'
  | 'pool:manage'
  | 'users:manage'
  | 'usage:view'
  | 'pricing:manage'
  | 'forecasts:view'
  | 'invoices:view'
  | 'billing:manage'
  | 'alerts:manage'
  | 'api_keys:manage'
  | 'upstreams:manage'
  | 'settings:manage'
  | 'balance:view_own';

export const allPermissions: readonly Permission[] = [
  'overview:view',
  'pool:view',
  'pool:manage',
  'users:manage',
  'usage:view',
  'pricing:manage',
  'forecasts:view',
  'invoices:view',
  'billing:manage',
  'alerts:manage',
  'api_keys:manage',
  'upstreams:manage',
  'settings:manage',
  'balance:view_own',
];

/** Highest privilege first; the order the UI lists roles in. */
export const allRoles: readonly Role[] = ['owner', 'admin', 'billing', 'member'];

const matrix: Record<Role, ReadonlySet<Permission>> = {
  owner: new Set(allPermissions),
  // Runs the org day to day, but does not see invoices, pay, or change org settings.
  admin: new Set<Permission>([
    'overview:view',
    'pool:view',
    'pool:manage',
    'users:manage',
    'usage:view',
    'pricing:manage',
    'forecasts:view',
    'alerts:manage',
    'api_keys:manage',
    'upstreams:manage',
    'balance:view_own',
  ]),
  // Finance: sees spending and pays, but does not manage people, keys or the pool.
  billing: new Set<Permission>([
    'overview:view',
    'pool:view',
    'usage:view',
    'forecasts:view',
    'invoices:view',
    'billing:manage',
    'balance:view_own',
  ]),
  member: new Set<Permission>(['balance:view_own']),
};

export function can(role: Role, permission: Permission): boolean {
  return matrix[role]?.has(permission) ?? false;
}

/**
 * Roles a member with `role` may grant (invite with, or change someone to). An admin cannot create owners,
 * so owners stay in control of who else is an owner.
 */
export function rolesAssignableBy(role: Role): Role[] {
  switch (role) {
    case 'owner':
      return ['owner', 'admin', 'billing', 'member'];
    case 'admin':
      return ['admin', 'billing', 'member'];
    default:
      return [];
  }
}

export type NavSection = {
  key: string;
  label: string;
  href: (orgSlug: string) => string;
  permission: Permission;
};

/** The dashboard's sections in display order; the UI shows those whose permission the role has. */
export const navSections: readonly NavSection[] = [
  { key: 'overview', label: 'Overview', href: (org) => `/${org}`, permission: 'overview:view' },
  { key: 'pool', label: 'Credit pool', href: (org) => `/${org}/pool`, permission: 'pool:view' },
  { key: 'ledger', label: 'Ledger', href: (org) => `/${org}/ledger`, permission: 'pool:view' },
  { key: 'users', label: 'Users', href: (org) => `/${org}/users`, permission: 'users:manage' },
  { key: 'usage', label: 'Usage', href: (org) => `/${org}/usage`, permission: 'usage:view' },
  { key: 'models', label: 'Models and prices', href: (org) => `/${org}/models`, permission: 'usage:view' },
  { key: 'forecasts', label: 'Forecasts', href: (org) => `/${org}/forecasts`, permission: 'forecasts:view' },
  { key: 'invoices', label: 'Invoices', href: (org) => `/${org}/invoices`, permission: 'invoices:view' },
  { key: 'alerts', label: 'Alerts', href: (org) => `/${org}/alerts`, permission: 'alerts:manage' },
  { key: 'api-keys', label: 'API keys', href: (org) => `/${org}/api-keys`, permission: 'api_keys:manage' },
  { key: 'upstreams', label: 'Upstreams', href: (org) => `/${org}/upstreams`, permission: 'upstreams:manage' },
  { key: 'settings', label: 'Settings', href: (org) => `/${org}/settings`, permission: 'settings:manage' },
  {
    key: 'balance',
    label: 'My balance',
    href: (org) => `/balance?org=${encodeURIComponent(org)}`,
    permission: 'balance:view_own',
  },
];

/** The sections a role may open, in display order. */
export function navSectionsFor(role: Role): NavSection[] {
  return navSections.filter((section) => can(role, section.permission));
}
