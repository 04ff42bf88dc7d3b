'use client';

import Link from 'next/link';
import { useEffect, useRef, useState } from 'react';
import type { ShellOrg } from './types';

/** A disclosure listing the user's orgs as links; Escape or a click elsewhere closes it. */
export function OrgSwitcher({ orgs, currentOrg }: { orgs: ShellOrg[]; currentOrg: ShellOrg | null }) {
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    function onPointer(e: PointerEvent) {
      if (root.current && !root.current.contains(e.target as Node)) setOpen(false);
    }
    function onKey(e: KeyboardEvent) {
      if (e.key === 'Escape') {
        setOpen(false);
        button.current?.focus();
      }
    }
    document.addEventListener('pointerdown', onPointer);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('pointerdown', onPointer);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  return (
    <div ref={root} className="relative">
      <p id="org-switcher-label" className="px-3 pb-1 text-xs font-semibold uppercase tracking-wide text-zinc-500">
        Organization
      </p>
      <button
        ref={button}
        type="button"
        aria-expanded={open}
        aria-controls="org-switcher-list"
        aria-describedby="org-switcher-label"
        onClick={() => setOpen((v) => !v)}
        className="flex w-full items-center justify-between gap-2 rounded-md border border-zinc-300 bg-white px-3 py-2 text-left text-sm font-medium text-zinc-900 shadow-sm hover:bg-zinc-50"
      >
        <span className="truncate">{currentOrg ? currentOrg.name : 'Choose an organization'}</span>
        <svg aria-hidden="true" viewBox="0 0 20 20" className="size-4 shrink-0 text-zinc-500" fill="currentColor">
          <path d="M5.2 7.2a1 1 0 0 1 1.4 0L10 10.6l3.4-3.4a1 1 0 1 1 1.4 1.4l-4.1 4.1a1 1 0 0 1-1.4 0L5.2 8.6a1 1 0 0 1 0-1.4Z" />
        </svg>
      </button>
      {open ? (
        <ul
          id="org-switcher-list"
          aria-label="Your organizations"
          className="absolute inset-x-0 z-20 mt-1 max-h-72 overflow-y-auto rounded-md border border-zinc-200 bg-white py-1 shadow-lg"
        >
          {orgs.map((org) => {
            const current = currentOrg?.slug === org.slug;
            return (
              <li key={org.slug}>
                <Link
                  href={org.href}
                  aria-current={current ? 'true' : undefined}
                  onClick={() => setOpen(false)}
                  className={`flex items-center justify-between gap-2 px-3 py-2 text-sm hover:bg-zinc-50 ${
                    current ? 'font-semibold text-accent-800' : 'text-zinc-800'
                  }`}
                >
                  <span className="truncate">{org.name}</span>
                  <span className="shrink-0 text-xs capitalize text-zinc-500">{org.role}</span>
                </Link>
              </li>
            );
          })}
        </ul>
      ) : null}
    </div>
  );
}
