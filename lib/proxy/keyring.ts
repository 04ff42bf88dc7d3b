/**
 * The process's keyring for sealed upstream keys, from configuration (read once, at the edge of the domain:
 * server actions and the proxy's wiring call this; domain functions take the keyring as an argument).
 */
import path from 'node:path';
import { getEnv } from '../env.ts';
import { keyringFrom, type Keyring } from './secret-box.ts';

const holder = globalThis as unknown as { __creditsKeyring?: Keyring };

export function getKeyring(): Keyring {
  if (!holder.__creditsKeyring) {
    const env = getEnv();
    holder.__creditsKeyring = keyringFrom({
      masterKey: env.CREDITS_MASTER_KEY,
      previousKeys: env.CREDITS_MASTER_KEY_PREVIOUS?.split(',').map((k) => k.trim()).filter(Boolean),
      dataDir: path.resolve(env.DATA_DIR),
    });
  }
  return holder.__creditsKeyring;
}
