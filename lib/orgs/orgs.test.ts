import { describe, expect, it } from 'vitest';
import { orgSlugSchema } from './orgs.ts';

describe('orgSlugSchema', () => {
  it('accepts lowercase letters, digits and inner hyphens, 3 to 48 characters', () => {
    for (const slug of ['acme', 'a1b', 'acme-labs', 'team-42-eu', 'a'.repeat(48)]) {
      expect(orgSlugSchema.safeParse(slug).success, slug).toBe(true);
    }
  });

  it('rejects slugs that would not work as a URL segment of their own', () => {
    for (const slug of ['ab', 'a'.repeat(49), 'Acme', 'acme_labs', 'acme labs', '-acme', 'acme-', 'acmé', 'a/b']) {
      expect(orgSlugSchema.safeParse(slug).success, slug).toBe(false);
    }
  });

  it('rejects slugs taken by the app’s own pages', () => {
    for (const slug of ['api', 'sign-in', 'sign-up', 'balance', 'invite', 'forbidden']) {
      expect(orgSlugSchema.safeParse(slug).success, slug).toBe(false);
    }
  });
});
