import type { Metadata } from 'next';
import Link from 'next/link';
import { buttonClass } from '@/components/ui/button';

export const metadata: Metadata = { title: 'Access denied' };

export default function ForbiddenPage() {
  return (
    <main id="main-content" className="grid min-h-dvh place-items-center px-4 py-12">
      <div className="w-full max-w-md text-center">
        <p className="text-sm font-semibold text-accent-700">403</p>
        <h1 className="mt-2 text-2xl font-semibold tracking-tight text-zinc-900">You don&apos;t have access to this page</h1>
        <p className="mt-2 text-sm text-zinc-600">
          Your role in this organization does not include this section. Ask an owner or admin if you need it.
        </p>
        <Link href="/" className={buttonClass('primary', 'md', 'mt-6')}>
          Go to your home page
        </Link>
      </div>
    </main>
  );
}
