import { describe, expect, it } from 'vitest';
import type { Role } from '../generated/prisma/enums.ts';
import { allPermissions, can, navSections, navSectionsFor, type Permission, rolesAssignableBy } from './permissions.ts';

const allowed = (role: Role) => allPermissions.filter((p) => can(role, p));

describe('can', () => {
  it('lets owners do everything', () => {
    expect(allowed('owner')).toEqual(allPermissions);
  });

  it('lets admins run the org but not see invoices, pay or change settings', () => {
    expect(new Set(allowed('admin'))).toEqual(
      new Set<Permission>([
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
    );
    for (const p of ['invoices:view', 'billing:manage', 'settings:manage'] as const) expect(can('admin', p)).toBe(false);
  });

  it('lets billing see spending and pay, but not manage the pool, users or keys', () => {
    expect(new Set(allowed('billing'))).toEqual(
      new Set<Permission>([
        'overview:view',
        'pool:view',
        'usage:view',
        'forecasts:view',
        'invoices:view',
        'billing:manage',
        'balance:view_own',
      ]),
    );
    for (const p of ['pool:manage', 'users:manage', 'pricing:manage', 'api_keys:manage', 'upstreams:manage', 'alerts:manage', 'settings:manage'] as const) {
      expect(can('billing', p)).toBe(false);
    }
  });

  it('lets members see only their own balance', () => {
    expect(allowed('member')).toEqual(['balance:view_own']);
  });
});

describe('rolesAssignableBy', () => {
  it('lets owners grant any role, admins any role but owner, and nobody else any', () => {
    expect(rolesAssignableBy('owner')).toEqual(['owner', 'admin', 'billing', 'member']);
    expect(rolesAssignableBy('admin')).toEqual(['admin', 'billing', 'member']);
    expect(rolesAssignableBy('billing')).toEqual([]);
    expect(rolesAssignableBy('member')).toEqual([]);
  });
});

describe('navSections', () => {
  it('lists the sections in order with their links', () => {
    expect(navSections.map((s) => [s.label, s.href('acme')])).toEqual([
      ['Overview', '/acme'],
      ['Credit pool', '/acme/pool'],
      ['Ledger', '/acme/ledger'],
      ['Users', '/acme/users'],
      ['Usage', '/acme/usage'],
      ['Models and prices', '/acme/models'],
      ['Forecasts', '/acme/forecasts'],
      ['Invoices', '/acme/invoices'],
      ['Alerts', '/acme/alerts'],
      ['API keys', '/acme/api-keys'],
      ['Upstreams', '/acme/upstreams'],
      ['Settings', '/acme/settings'],
      ['My balance', '/balance?org=acme'],
    ]);
  });

  it('shows each role only what it may open', () => {
    expect(navSectionsFor('member').map((s) => s.key)).toEqual(['balance']);
    expect(navSectionsFor('billing').map((s) => s.key)).toEqual([
      'overview',
      'pool',
      'ledger',
      'usage',
      'models',
      'forecasts',
      'invoices',
      'balance',
    ]);
    expect(navSectionsFor('owner')).toHaveLength(navSections.length);
  });
});
