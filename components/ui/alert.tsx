import type { ReactNode } from 'react';

type AlertProps = { tone?: 'error' | 'success' | 'warning' | 'info'; title?: ReactNode; children: ReactNode; id?: string };

const tones = {
  error: 'border-red-200 bg-red-50 text-red-800',
  success: 'border-emerald-200 bg-emerald-50 text-emerald-800',
  warning: 'border-amber-200 bg-amber-50 text-amber-900',
  info: 'border-zinc-200 bg-white text-zinc-700',
};

/** A message box. Errors are announced at once (role=alert), other tones politely (role=status). */
export function Alert({ tone = 'info', title, children, id }: AlertProps) {
  return (
    <div id={id} role={tone === 'error' ? 'alert' : 'status'} className={`rounded-md border px-4 py-3 text-sm ${tones[tone]}`}>
      {title ? <p className="font-medium">{title}</p> : null}
      <div className={title ? 'mt-1' : undefined}>{children}</div>
    </div>
  );
}
