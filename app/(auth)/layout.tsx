import Link from 'next/link';
import type { ReactNode } from 'react';

/** Sign-in, sign-up and invitations: one centred column with the product name. */
export default function AuthLayout({ children }: { children: ReactNode }) {
  return (
    <div className="flex min-h-dvh flex-col items-center px-4 py-10 sm:py-16">
      <a
        href="#main-content"
        className="sr-only focus:not-sr-only focus:fixed focus:left-3 focus:top-3 focus:z-50 focus:rounded-md focus:bg-white focus:px-4 focus:py-2 focus:text-sm focus:font-medium focus:text-accent-700 focus:shadow-lg"
      >
        Skip to main content
      </a>
      <Link href="/" className="mb-8 flex items-center gap-2 rounded-md text-lg font-semibold text-zinc-900">
        <span aria-hidden="true" className="grid size-8 place-items-center rounded-md bg-accent-600 text-white">
          C
        </span>
        Credits
      </Link>
      <main id="main-content" tabIndex={-1} className="w-full max-w-md focus:outline-none">
        <div className="rounded-lg border border-zinc-200 bg-white p-6 shadow-sm sm:p-8">{children}</div>
      </main>
    </div>
  );
}
