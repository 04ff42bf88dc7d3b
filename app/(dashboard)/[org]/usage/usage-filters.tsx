'use client';

import Link from 'next/link';
import { useRef } from 'react';
import { Button, buttonClass } from '@/components/ui/button';
import { SelectField, TextField } from '@/components/ui/field';

type Option = { value: string; label: string };

export type UsageFiltersProps = {
  action: string;
  values: Partial<Record<'user' | 'model' | 'key' | 'status' | 'from' | 'to', string>>;
  errors: Partial<Record<string, string>>;
  users: Option[];
  models: string[];
  keys: Option[];
  filtered: boolean;
};

/** The usage log's filters: a GET form, sent again as soon as a list choice changes. */
export function UsageFilters({ action, values, errors, users, models, keys, filtered }: UsageFiltersProps) {
  const form = useRef<HTMLFormElement>(null);
  const submit = () => form.current?.requestSubmit();
  const modelOptions = [{ value: '', label: 'All models' }, ...models.map((m) => ({ value: m, label: m }))];
  if (values.model && !models.includes(values.model)) modelOptions.push({ value: values.model, label: values.model });
  return (
    <form
      ref={form}
      method="get"
      action={action}
      className="grid gap-4 rounded-lg border border-zinc-200 bg-white p-4 shadow-sm sm:grid-cols-3 lg:grid-cols-[repeat(6,minmax(0,1fr))_auto] lg:items-start"
    >
      <SelectField label="User" name="user" defaultValue={values.user ?? ''} options={[{ value: '', label: 'Everyone' }, ...users]} errors={errors.user} onChange={submit} />
      <SelectField label="Model" name="model" defaultValue={values.model ?? ''} options={modelOptions} errors={errors.model} onChange={submit} />
      <SelectField label="API key" name="key" defaultValue={values.key ?? ''} options={[{ value: '', label: 'All keys' }, ...keys]} errors={errors.key} onChange={submit} />
      <SelectField
        label="Status"
        name="status"
        defaultValue={values.status ?? ''}
        errors={errors.status}
        onChange={submit}
        options={[
          { value: '', label: 'Any status' },
          { value: 'ok', label: 'OK' },
          { value: 'error', label: 'Error' },
          { value: 'cancelled', label: 'Cancelled' },
        ]}
      />
      <TextField label="From (UTC)" name="from" type="date" defaultValue={values.from} errors={errors.from} />
      <TextField label="To (UTC)" name="to" type="date" defaultValue={values.to} errors={errors.to} />
      <div className="flex gap-2 lg:pt-7">
        <Button type="submit">Filter</Button>
        {filtered ? (
          <Link href={action} className={buttonClass('ghost')}>
            Clear
          </Link>
        ) : null}
      </div>
    </form>
  );
}
