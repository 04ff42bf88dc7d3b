/**
 * Where to go after signing in. Only paths on this site are accepted, so a crafted link cannot send a user
 * to another origin after they sign in.
 */
export function safeCallbackUrl(value: string | string[] | undefined, fallback = '/'): string {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return fallback;
  let candidate = raw;
  try {
    // next-auth passes absolute URLs of this site; keep their path, query and fragment.
    if (/^https?:\/\//i.test(raw)) {
      const url = new URL(raw);
      candidate = `${url.pathname}${url.search}${url.hash}`;
    }
  } catch {
    return fallback;
  }
  if (!candidate.startsWith('/') || candidate.startsWith('//') || candidate.startsWith('/\\')) return fallback;
  return candidate;
}
