import type { ReactNode } from 'react';

type CardProps = { title?: ReactNode; description?: ReactNode; children: ReactNode; className?: string };

export function Card({ title, description, children, className = '' }: CardProps) {
  return (
    <section className={`rounded-lg border border-zinc-200 bg-white shadow-sm ${className}`}>
      {title ? (
        <div className="border-b border-zinc-200 px-5 py-4">
          <h2 className="text-base font-semibold text-zinc-900">{title}</h2>
          {description ? <p className="mt-1 text-sm text-zinc-600">{description}</p> : null}
        </div>
      ) : null}
      <div className="px-5 py-4">{children}</div>
    </section>
  );
}
