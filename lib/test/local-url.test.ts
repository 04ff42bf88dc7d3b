import { describe, expect, it } from 'vitest';
import { assertLocalDatabaseUrl } from './local-url.ts';

describe('assertLocalDatabaseUrl', () => {
  it('accepts loopback servers', () => {
    expect(() => assertLocalDatabaseUrl('postgresql://u:p@127.0.0.1:5432/x')).not.toThrow();
    expect(() => assertLocalDatabaseUrl('postgresql://u:p@localhost/x')).not.toThrow();
    expect(() => assertLocalDatabaseUrl('postgresql://u:p@[::1]:5432/x')).not.toThrow();
  });

  it('refuses remote servers and garbage', () => {
    expect(() => assertLocalDatabaseUrl('postgresql://u:p@db.example.com/x')).toThrow(/non-local/);
    expect(() => assertLocalDatabaseUrl('postgresql://u:p@10.0.0.5/x')).toThrow(/non-local/);
    expect(() => assertLocalDatabaseUrl('not a url')).toThrow(/valid URL/);
  });
});
