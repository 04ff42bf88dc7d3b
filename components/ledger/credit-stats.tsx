import type { ReactNode } from 'react';

export type CreditStat = { label: string; value: string; detail?: ReactNode; tone?: 'default' | 'muted' | 'warning' };

const valueTones = { default: 'text-zinc-900', muted: 'text-zinc-500', warning: 'text-amber-800' };

/** A row of figures (balances, totals), each a labelled value with an optional line of detail. */
export function CreditStats({ stats, label }: { stats: CreditStat[]; label: string }) {
  return (
    <dl aria-label={label} className={`grid gap-4 ${stats.length === 3 ? 'sm:grid-cols-3' : 'sm:grid-cols-2 xl:grid-cols-4'}`}>
      {stats.map((stat) => (
        <div key={stat.label} className="min-w-0 rounded-lg border border-zinc-200 bg-white p-5 shadow-sm">
          <dt className="text-sm font-medium text-zinc-600">{stat.label}</dt>
          <dd className={`mt-1 break-words text-2xl font-semibold tabular-nums ${valueTones[stat.tone ?? 'default']}`}>
            {stat.value}
          </dd>
          {stat.detail ? <dd className="mt-1 text-xs text-zinc-500">{stat.detail}</dd> : null}
        </div>
      ))}
    </dl>
  );
}
