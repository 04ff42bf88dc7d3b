import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes } from 'react';

const controlBase =
  'block w-full rounded-md border bg-white px-3 text-sm text-zinc-900 shadow-sm placeholder:text-zinc-400 focus:outline-2 focus:outline-offset-0 focus:outline-accent-600 disabled:bg-zinc-100 read-only:bg-zinc-50';

function controlClass(invalid: boolean): string {
  return `${controlBase} ${invalid ? 'border-red-500' : 'border-zinc-300'}`;
}

/** The first message of a field's errors, which is the one shown. */
export function firstError(errors: string[] | string | undefined): string | undefined {
  if (Array.isArray(errors)) return errors[0];
  return errors || undefined;
}

type FieldShellProps = {
  id: string;
  label: ReactNode;
  hint?: ReactNode;
  error?: string;
  children: ReactNode;
};

function FieldShell({ id, label, hint, error, children }: FieldShellProps) {
  return (
    <div className="space-y-1.5">
      <label htmlFor={id} className="block text-sm font-medium text-zinc-800">
        {label}
      </label>
      {children}
      {hint && !error ? (
        <p id={`${id}-hint`} className="text-xs text-zinc-500">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} className="text-sm text-red-700">
          {error}
        </p>
      ) : null}
    </div>
  );
}

function describedBy(id: string, hint: unknown, error: string | undefined): string | undefined {
  if (error) return `${id}-error`;
  if (hint) return `${id}-hint`;
  return undefined;
}

type TextFieldProps = Omit<InputHTMLAttributes<HTMLInputElement>, 'id'> & {
  label: ReactNode;
  name: string;
  hint?: ReactNode;
  errors?: string[] | string;
};

/** A labelled input whose error is tied to it with aria-invalid and aria-describedby. */
export function TextField({ label, hint, errors, className = '', ...input }: TextFieldProps) {
  const id = useId();
  const error = firstError(errors);
  return (
    <FieldShell id={id} label={label} hint={hint} error={error}>
      <input
        id={id}
        className={`${controlClass(Boolean(error))} h-10 ${className}`}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, hint, error)}
        {...input}
      />
    </FieldShell>
  );
}

type SelectFieldProps = Omit<SelectHTMLAttributes<HTMLSelectElement>, 'id'> & {
  label: ReactNode;
  name: string;
  hint?: ReactNode;
  errors?: string[] | string;
  options: readonly { value: string; label: string }[];
};

export function SelectField({ label, hint, errors, options, className = '', ...select }: SelectFieldProps) {
  const id = useId();
  const error = firstError(errors);
  return (
    <FieldShell id={id} label={label} hint={hint} error={error}>
      <select
        id={id}
        className={`${controlClass(Boolean(error))} h-10 ${className}`}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, hint, error)}
        {...select}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </FieldShell>
  );
}

type CheckboxGroupProps = {
  legend: ReactNode;
  name: string;
  options: readonly { value: string; label: string; description?: string }[];
  defaultValues?: readonly string[];
  errors?: string[] | string;
};

/** Checkboxes sharing one name, in a fieldset whose legend labels the group. */
export function CheckboxGroup({ legend, name, options, defaultValues = [], errors }: CheckboxGroupProps) {
  const id = useId();
  const error = firstError(errors);
  return (
    <fieldset
      className="space-y-2"
      aria-invalid={error ? true : undefined}
      aria-describedby={error ? `${id}-error` : undefined}
    >
      <legend className="text-sm font-medium text-zinc-800">{legend}</legend>
      <div className="space-y-2">
        {options.map((o) => (
          <label key={o.value} className="flex items-start gap-2 text-sm text-zinc-800">
            <input
              type="checkbox"
              name={name}
              value={o.value}
              defaultChecked={defaultValues.includes(o.value)}
              className="mt-0.5 size-4 rounded border-zinc-300 accent-accent-600"
            />
            <span>
              <span className="font-medium">{o.label}</span>
              {o.description ? <span className="block text-xs text-zinc-500">{o.description}</span> : null}
            </span>
          </label>
        ))}
      </div>
      {error ? (
        <p id={`${id}-error`} className="text-sm text-red-700">
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}
