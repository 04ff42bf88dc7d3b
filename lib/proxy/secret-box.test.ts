import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyringFrom, masterKey, needsResealing, open, parseMasterKey, seal, type Keyring } from './secret-box.ts';

const ring = (): Keyring => ({ current: masterKey(randomBytes(32)), previous: [] });

describe('seal and open', () => {
  it('round-trips a secret and never stores it in clear', () => {
    const keyring = ring();
    const { sealed, keyId } = seal(keyring, 'sk-upstream-secret-1234', 'org-1');
    expect(sealed).not.toContain('sk-upstream');
    expect(keyId).toBe(keyring.current.id);
    expect(open(keyring, sealed, 'org-1')).toBe('sk-upstream-secret-1234');
    expect(seal(keyring, 'same', 'org-1').sealed).not.toBe(seal(keyring, 'same', 'org-1').sealed);
  });

  it('detects a changed byte in the data, the tag or the nonce', () => {
    const keyring = ring();
    const { sealed } = seal(keyring, 'sk-upstream-secret', 'org-1');
    const parts = sealed.split('.');
    for (const index of [2, 3, 4]) {
      const bytes = Buffer.from(parts[index], 'base64url');
      bytes[0] ^= 1;
      const tampered = parts.map((p, i) => (i === index ? bytes.toString('base64url') : p)).join('.');
      expect(() => open(keyring, tampered, 'org-1')).toThrow(/failed authentication/);
    }
  });

  it('does not open in another org or with another key', () => {
    const keyring = ring();
    const { sealed } = seal(keyring, 'sk-upstream-secret', 'org-1');
    expect(() => open(keyring, sealed, 'org-2')).toThrow(/failed authentication/);
    expect(() => open(ring(), sealed, 'org-1')).toThrow(/unknown master key/);
    expect(() => open(keyring, 'v2.x.y.z.w', 'org-1')).toThrow(/malformed/);
  });

  it('opens values of a previous key after rotation and says they need resealing', () => {
    const old = ring();
    const { sealed, keyId } = seal(old, 'sk-old', 'org-1');
    const rotated: Keyring = { current: masterKey(randomBytes(32)), previous: [old.current] };
    expect(open(rotated, sealed, 'org-1')).toBe('sk-old');
    expect(needsResealing(rotated, keyId)).toBe(true);
    expect(needsResealing(rotated, seal(rotated, 'sk-new', 'org-1').keyId)).toBe(false);
  });
});

describe('keyringFrom', () => {
  it('reads hex and base64 master keys alike', () => {
    const bytes = randomBytes(32);
    expect(parseMasterKey(bytes.toString('hex')).id).toBe(parseMasterKey(bytes.toString('base64')).id);
  });

  it('generates and keeps a per-install key in the data folder when none is configured', () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'credits-keys-'));
    const first = keyringFrom({ dataDir });
    expect(readFileSync(path.join(dataDir, 'master-key'), 'utf8').trim()).not.toBe('');
    expect(keyringFrom({ dataDir }).current.id).toBe(first.current.id);
    const { sealed } = seal(first, 'sk', 'org');
    expect(open(keyringFrom({ dataDir }), sealed, 'org')).toBe('sk');
  });
});
