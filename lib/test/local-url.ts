/** Test databases are created and dropped freely, so tests refuse any server that is not on this machine. */
export function assertLocalDatabaseUrl(url: string): void {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    throw new Error('TEST_DATABASE_URL is not a valid URL');
  }
  const local = ['localhost', '127.0.0.1', '[::1]', '::1', ''];
  if (!local.includes(host) && !host.startsWith('127.')) {
    throw new Error(`Refusing to run tests against the non-local database host "${host}"`);
  }
}
