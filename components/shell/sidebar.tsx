'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useEffect, useState } from 'react';
import { OrgSwitcher } from './org-switcher';
import { SignOutButton } from './sign-out-button';
import type { ShellNavItem, ShellOrg, ShellUser } from './types';

type SidebarProps = {
  user: ShellUser | null;
  orgs: ShellOrg[];
  currentOrg: ShellOrg | null;
  nav: ShellNavItem[];
};

function isActive(pathname: string, href: string): boolean {
  const path = href.split('?')[0] ?? href;
  // An org's overview is its root path, which prefixes every other section: only an exact match is active.
  const isOrgRoot = path.split('/').filter(Boolean).length === 1 && path !== '/balance';
  if (isOrgRoot) return pathname === path;
  return pathname === path || pathname.startsWith(`${path}/`);
}

export function Sidebar({ user, orgs, currentOrg, nav }: SidebarProps) {
  const pathname = usePathname();
  const [open, setOpen] = useState(false);

  // Close the phone menu after navigating, so the new page is what the user sees.
  useEffect(() => {
    setOpen(false);
  }, [pathname]);

  return (
    <div className="border-b border-zinc-200 bg-white lg:sticky lg:top-0 lg:h-dvh lg:w-64 lg:shrink-0 lg:border-b-0 lg:border-r">
      <div className="flex h-14 items-center justify-between px-4 lg:h-16 lg:px-5">
        <Link href="/" className="flex items-center gap-2 rounded-md text-base font-semibold text-zinc-900">
          <span aria-hidden="true" className="grid size-7 place-items-center rounded-md bg-accent-600 text-sm text-white">
            C
          </span>
          Credits
        </Link>
        <button
          type="button"
          className="inline-flex h-9 items-center gap-2 rounded-md border border-zinc-300 px-3 text-sm font-medium text-zinc-800 lg:hidden"
          aria-expanded={open}
          aria-controls="sidebar-panel"
          onClick={() => setOpen((v) => !v)}
        >
          <svg aria-hidden="true" viewBox="0 0 20 20" className="size-4" fill="currentColor">
            {open ? (
              <path d="M5.3 4.3a1 1 0 0 0-1.4 1.4L8.6 10l-4.7 4.3a1 1 0 1 0 1.4 1.4L10 11.4l4.3 4.3a1 1 0 0 0 1.4-1.4L11.4 10l4.3-4.3a1 1 0 0 0-1.4-1.4L10 8.6 5.3 4.3Z" />
            ) : (
              <path d="M3 5a1 1 0 0 1 1-1h12a1 1 0 1 1 0 2H4a1 1 0 0 1-1-1Zm0 5a1 1 0 0 1 1-1h12a1 1 0 1 1 0 2H4a1 1 0 0 1-1-1Zm1 4a1 1 0 1 0 0 2h12a1 1 0 1 0 0-2H4Z" />
            )}
          </svg>
          Menu
        </button>
      </div>

      <div
        id="sidebar-panel"
        className={`${open ? 'flex' : 'hidden'} flex-col gap-4 px-3 pb-4 lg:flex lg:h-[calc(100dvh-4rem)] lg:overflow-y-auto`}
      >
        {orgs.length > 0 ? <OrgSwitcher orgs={orgs} currentOrg={currentOrg} /> : null}

        <nav aria-label="Sections" className="flex-1">
          <ul className="space-y-0.5">
            {nav.map((item) => {
              const active = isActive(pathname, item.href);
              return (
                <li key={item.key}>
                  <Link
                    href={item.href}
                    aria-current={active ? 'page' : undefined}
                    className={`block rounded-md px-3 py-2 text-sm font-medium ${
                      active ? 'bg-accent-50 text-accent-800' : 'text-zinc-700 hover:bg-zinc-100 hover:text-zinc-900'
                    }`}
                  >
                    {item.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>

        {user ? (
          <div className="border-t border-zinc-200 pt-4">
            <p className="truncate px-3 text-sm font-medium text-zinc-900">{user.name || user.email}</p>
            {user.name && user.email ? <p className="truncate px-3 text-xs text-zinc-500">{user.email}</p> : null}
            <div className="mt-3 px-3">
              <SignOutButton />
            </div>
          </div>
        ) : null}
      </div>
    </div>
  );
}
