'use client';

import { useId, useRef, useState } from 'react';
import { Button } from './button';

type CopyFieldProps = { label: string; value: string; hint?: string };

/** A read-only value with a button that copies it; used for secrets and links that are shown once. */
export function CopyField({ label, value, hint }: CopyFieldProps) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle');

  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setCopied('copied');
    } catch {
      // Clipboard access can be refused (insecure origin, permissions); leave the text selected to copy by hand.
      input.current?.select();
      setCopied('failed');
    }
  }

  return (
    <div className="space-y-1.5">
      <label htmlFor={id} className="block text-sm font-medium text-zinc-800">
        {label}
      </label>
      <div className="flex gap-2">
        <input
          ref={input}
          id={id}
          readOnly
          value={value}
          onFocus={(e) => e.currentTarget.select()}
          aria-describedby={hint ? `${id}-hint` : undefined}
          className="block h-10 w-full min-w-0 rounded-md border border-zinc-300 bg-zinc-50 px-3 font-mono text-sm text-zinc-900"
        />
        <Button variant="secondary" onClick={copy} aria-label={`Copy ${label.toLowerCase()}`}>
          Copy
        </Button>
      </div>
      {hint ? (
        <p id={`${id}-hint`} className="text-xs text-zinc-500">
          {hint}
        </p>
      ) : null}
      <p aria-live="polite" className="text-xs text-zinc-600">
        {copied === 'copied' ? 'Copied to the clipboard.' : copied === 'failed' ? 'Copying failed: the text is selected, copy it by hand.' : ''}
      </p>
    </div>
  );
}
