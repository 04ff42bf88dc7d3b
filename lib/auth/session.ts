/**
 * Sign-in and sessions (next-auth, JWT sessions). Email + password always; GitHub and Google only when their
 * credentials are configured. The session token carries our user id in `sub`; every read of the session
 * re-checks that the user still exists, so deleting a user ends their sessions. OAuth sign-ins are linked to
 * users through oauth_accounts; a provider email links to an existing user only when the provider says it is
 * verified, so nobody can take over an account by claiming its email at a provider.
 */
import type { NextAuthOptions } from 'next-auth';
import { getServerSession } from 'next-auth/next';
import CredentialsProvider from 'next-auth/providers/credentials';
import GitHubProvider from 'next-auth/providers/github';
import GoogleProvider from 'next-auth/providers/google';
import { redirect } from 'next/navigation';
import { z } from 'zod';
import { db as sharedDb, type Db } from '../db/client.ts';
import { type Env, getEnv } from '../env.ts';
import { createUser, type DbOrTx, uniqueViolationFields, withTransaction } from '../users/create-user.ts';
import { hashPassword, verifyPassword } from './password.ts';

declare module 'next-auth' {
  interface Session {
    user: { id: string; email?: string | null; name?: string | null; image?: string | null };
  }
}

export type SessionUser = { id: string; email: string | null; name: string | null };

export const invalidCredentialsMessage = 'Invalid email or password';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const credentialsSchema = z.object({
  email: z.string().trim().toLowerCase().min(1).max(254),
  password: z.string().min(1).max(1000),
});

let dummyHash: Promise<string> | undefined;

/**
 * The user with this email and password, or null. Unknown emails cost the same argon2 work as wrong
 * passwords, so response times do not reveal which emails have accounts.
 */
export async function authenticateWithPassword(db: DbOrTx, email: string, password: string): Promise<SessionUser | null> {
  const parsed = credentialsSchema.safeParse({ email, password });
  if (!parsed.success) return null;
  const user = await db.user.findUnique({
    where: { email: parsed.data.email },
    select: { id: true, email: true, name: true, passwordHash: true },
  });
  if (!user?.passwordHash) {
    dummyHash ??= hashPassword('credits-timing-equaliser');
    await verifyPassword(await dummyHash, parsed.data.password);
    return null;
  }
  if (!(await verifyPassword(user.passwordHash, parsed.data.password))) return null;
  return { id: user.id, email: user.email, name: user.name };
}

export type OAuthIdentity = {
  provider: string;
  providerAccountId: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
};

async function findOAuthUserId(db: DbOrTx, provider: string, providerAccountId: string): Promise<string | null> {
  const account = await db.oAuthAccount.findUnique({
    where: { provider_providerAccountId: { provider, providerAccountId } },
    select: { userId: true },
  });
  return account?.userId ?? null;
}

/**
 * Our user for an OAuth sign-in: the linked one; else the user with the same verified email, now linked; else
 * a new user (with no org). Null when an unlinked user already has the email but the provider did not verify
 * it: that person must sign in with their password.
 */
export async function resolveOAuthUser(db: Db, identity: OAuthIdentity): Promise<string | null> {
  const linked = await findOAuthUserId(db, identity.provider, identity.providerAccountId);
  if (linked) return linked;
  const email = identity.email?.trim().toLowerCase() || null;
  try {
    return await withTransaction(db, async (tx) => {
      const existing = email ? await tx.user.findUnique({ where: { email }, select: { id: true } }) : null;
      let userId: string;
      if (existing) {
        if (!identity.emailVerified) return null;
        userId = existing.id;
      } else {
        const { user } = await createUser(
          tx,
          { email: identity.emailVerified ? email : null, name: identity.name },
          { type: 'system' },
        );
        userId = user.id;
      }
      await tx.oAuthAccount.create({
        data: { userId, provider: identity.provider, providerAccountId: identity.providerAccountId },
      });
      return userId;
    });
  } catch (err) {
    // A concurrent first sign-in with the same account linked it first; use that link.
    if (uniqueViolationFields(err)) return findOAuthUserId(db, identity.provider, identity.providerAccountId);
    throw err;
  }
}

type GitHubEmail = { email: string; primary: boolean; verified: boolean };

/** GitHub's profile email may be unverified; use the primary verified address from /user/emails instead. */
function gitHubProvider(clientId: string, clientSecret: string) {
  return GitHubProvider({
    clientId,
    clientSecret,
    userinfo: {
      url: 'https://api.github.com/user',
      async request({ client, tokens }) {
        const profile = (await client.userinfo(tokens.access_token!)) as Record<string, unknown>;
        const res = await fetch('https://api.github.com/user/emails', {
          headers: { Authorization: `token ${tokens.access_token}`, 'User-Agent': 'credits' },
        });
        const emails = res.ok ? ((await res.json()) as GitHubEmail[]) : [];
        const verified = emails.find((e) => e.primary && e.verified) ?? emails.find((e) => e.verified);
        profile.email = verified?.email ?? null;
        profile.email_verified = Boolean(verified);
        return profile as never;
      },
    },
  });
}

type AuthEnv = Pick<
  Env,
  'NEXTAUTH_SECRET' | 'GITHUB_ID' | 'GITHUB_SECRET' | 'GOOGLE_CLIENT_ID' | 'GOOGLE_CLIENT_SECRET'
>;

export function buildProviders(env: AuthEnv, db: Db): NextAuthOptions['providers'] {
  const providers: NextAuthOptions['providers'] = [
    CredentialsProvider({
      name: 'Email',
      credentials: {
        email: { label: 'Email', type: 'email' },
        password: { label: 'Password', type: 'password' },
      },
      async authorize(credentials) {
        const user = await authenticateWithPassword(db, credentials?.email ?? '', credentials?.password ?? '');
        // Thrown rather than returned as null so that the sign-in form receives this exact message.
        if (!user) throw new Error(invalidCredentialsMessage);
        return user;
      },
    }),
  ];
  if (env.GITHUB_ID && env.GITHUB_SECRET) providers.push(gitHubProvider(env.GITHUB_ID, env.GITHUB_SECRET));
  if (env.GOOGLE_CLIENT_ID && env.GOOGLE_CLIENT_SECRET) {
    providers.push(GoogleProvider({ clientId: env.GOOGLE_CLIENT_ID, clientSecret: env.GOOGLE_CLIENT_SECRET }));
  }
  return providers;
}

function buildCallbacks(db: Db): NonNullable<NextAuthOptions['callbacks']> {
  return {
    async signIn({ user, account, profile }) {
      if (!account || account.type === 'credentials') return true;
      const raw = (profile ?? {}) as Record<string, unknown>;
      const userId = await resolveOAuthUser(db, {
        provider: account.provider,
        providerAccountId: account.providerAccountId,
        email: user.email ?? null,
        emailVerified: raw.email_verified === true || raw.email_verified === 'true',
        name: user.name ?? null,
      });
      if (!userId) return '/sign-in?error=OAuthAccountNotLinked';
      return true;
    },
    async jwt({ token, user, account }) {
      if (account && user) {
        // For OAuth, `user.id` is the provider's id; ours is found through the link made in signIn.
        const userId =
          account.type === 'credentials'
            ? user.id
            : await findOAuthUserId(db, account.provider, account.providerAccountId);
        if (userId) token.sub = userId;
        else delete token.sub;
      }
      return token;
    },
    async session({ session, token }) {
      session.user = { id: token.sub ?? '', email: token.email ?? null, name: token.name ?? null };
      return session;
    },
  };
}

export function buildAuthOptions(env: AuthEnv, db: Db): NextAuthOptions {
  return {
    providers: buildProviders(env, db),
    secret: env.NEXTAUTH_SECRET,
    session: { strategy: 'jwt' },
    pages: { signIn: '/sign-in' },
    callbacks: buildCallbacks(db),
  };
}

let providersCache: NextAuthOptions['providers'] | undefined;
let secretFallback: string | undefined;

/**
 * The app's options. Configuration is read on first use rather than at import, so importing this module
 * (during builds, from tests) never requires a complete environment.
 */
export const authOptions: NextAuthOptions = {
  get providers() {
    providersCache ??= buildProviders(getEnv(), sharedDb);
    return providersCache;
  },
  get secret() {
    return getEnv().NEXTAUTH_SECRET ?? secretFallback;
  },
  // next-auth assigns its own fallback (process.env.AUTH_SECRET) when no secret is configured.
  set secret(value: string | undefined) {
    secretFallback = value;
  },
  session: { strategy: 'jwt' },
  pages: { signIn: '/sign-in' },
  callbacks: buildCallbacks(sharedDb),
};

/** The signed-in user, or null when signed out or when the user no longer exists. */
export async function getSessionUser(db: DbOrTx = sharedDb): Promise<SessionUser | null> {
  const session = await getServerSession(authOptions);
  const id = session?.user?.id;
  if (!id || !uuidPattern.test(id)) return null;
  return db.user.findUnique({ where: { id }, select: { id: true, email: true, name: true } });
}

export function signInPath(callbackUrl?: string): string {
  return callbackUrl ? `/sign-in?callbackUrl=${encodeURIComponent(callbackUrl)}` : '/sign-in';
}

/** For pages: the signed-in user, or a redirect to the sign-in page (coming back to `callbackUrl`). */
export async function requireUser(callbackUrl?: string): Promise<SessionUser> {
  const user = await getSessionUser();
  if (!user) redirect(signInPath(callbackUrl));
  return user;
}
