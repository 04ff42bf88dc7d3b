import type { ReactNode } from 'react';
import { Sidebar } from './sidebar';
import type { ShellNavItem, ShellOrg, ShellUser } from './types';

type AppShellProps = {
  user: ShellUser | null;
  orgs: ShellOrg[];
  currentOrg: ShellOrg | null;
  nav: ShellNavItem[];
  children: ReactNode;
};

/** The signed-in frame: skip link, sidebar (a menu on phones) and the main landmark. */
export function AppShell({ user, orgs, currentOrg, nav, children }: AppShellProps) {
  return (
    <div className="min-h-dvh lg:flex">
      <a
        href="#main-content"
        className="sr-only focus:not-sr-only focus:fixed focus:left-3 focus:top-3 focus:z-50 focus:rounded-md focus:bg-white focus:px-4 focus:py-2 focus:text-sm focus:font-medium focus:text-accent-700 focus:shadow-lg"
      >
        Skip to main content
      </a>
      <Sidebar user={user} orgs={orgs} currentOrg={currentOrg} nav={nav} />
      <main id="main-content" tabIndex={-1} className="min-w-0 flex-1 focus:outline-none">
        <div className="mx-auto w-full max-w-6xl px-4 py-6 sm:px-6 lg:px-10 lg:py-10">{children}</div>
      </main>
    </div>
  );
}
