'use client';

import { useActionState } from 'react';
import { ActionError, fieldErrorsOf } from '@/components/ui/action-feedback';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { TextField } from '@/components/ui/field';
import { useFormValues } from '@/components/ui/use-form-values';
import type { ActionResult } from '@/lib/auth/action';
import { removeModelOverrideAction, saveModelOverrideAction, savePricingSettingsAction } from './actions';

export type PricingSettingsValues = {
  credits_per_usd: string;
  markup_bps: number;
  estimate_margin_bps: number;
  estimate_output_cap: number;
  default_input: string;
  default_output: string;
  discounts: string;
};

function Saved({ state }: { state: ActionResult<unknown> | null }) {
  return state && state.ok && state.message ? <Alert tone="success">{state.message}</Alert> : null;
}

/** The org's rate, markup and estimate settings; saving writes a new price version. */
export function PricingSettingsForm({ orgSlug, settings }: { orgSlug: string; settings: PricingSettingsValues }) {
  const [state, formAction, pending] = useActionState(savePricingSettingsAction, null);
  const { values, onSubmit } = useFormValues();
  const errors = fieldErrorsOf(state);
  const failed = Boolean(state && !state.ok);
  const shown = (name: keyof PricingSettingsValues) => (failed ? (values[name] ?? '') : String(settings[name]));
  return (
    <form key={failed ? JSON.stringify(values) : JSON.stringify(settings)} action={formAction} onSubmit={onSubmit} className="space-y-4" noValidate>
      <input type="hidden" name="org" value={orgSlug} />
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField label="Credits per USD" name="credits_per_usd" inputMode="decimal" defaultValue={shown('credits_per_usd')} errors={errors.credits_per_usd} hint="100 means 1 credit = USD 0.01." />
        <TextField label="Markup (basis points)" name="markup_bps" type="number" step={1} defaultValue={shown('markup_bps')} errors={errors.markup_bps} hint="1500 adds 15%; -1000 is a 10% discount." />
        <TextField label="Estimate margin (basis points)" name="estimate_margin_bps" type="number" min={0} step={1} defaultValue={shown('estimate_margin_bps')} errors={errors.estimate_margin_bps} hint="Added to counted input tokens of non-OpenAI models." />
        <TextField label="Estimate output cap (tokens)" name="estimate_output_cap" type="number" min={1} step={1} defaultValue={shown('estimate_output_cap')} errors={errors.estimate_output_cap} hint="Output tokens an estimate assumes at most." />
        <TextField label="Unknown models: input USD / M tokens" name="default_input" inputMode="decimal" defaultValue={shown('default_input')} errors={errors.default_input} hint="Empty: unknown models are refused." />
        <TextField label="Unknown models: output USD / M tokens" name="default_output" inputMode="decimal" defaultValue={shown('default_output')} errors={errors.default_output} />
      </div>
      <TextField label="Volume discounts" name="discounts" defaultValue={shown('discounts')} errors={errors.discounts} hint="Credits charged in the month : basis points off, e.g. 1000:500, 10000:1000 (5% from 1,000 credits, 10% from 10,000). Empty for none." />
      <TextField label="Note" name="note" defaultValue={failed ? values.note : ''} errors={errors.note} hint="Why the prices change; shown in the history." />
      <ActionError state={state} />
      <Saved state={state} />
      <Button type="submit" pending={pending}>
        Save settings
      </Button>
    </form>
  );
}

/** Sets the org's own price of a catalog model, or prices a custom model. */
export function ModelOverrideForm({ orgSlug }: { orgSlug: string }) {
  const [state, formAction, pending] = useActionState(saveModelOverrideAction, null);
  const { values, onSubmit } = useFormValues();
  const errors = fieldErrorsOf(state);
  const failed = Boolean(state && !state.ok);
  const v = (name: string) => (failed ? values[name] : undefined);
  return (
    <form key={failed ? JSON.stringify(values) : 'override'} action={formAction} onSubmit={onSubmit} className="space-y-4" noValidate>
      <input type="hidden" name="org" value={orgSlug} />
      <div className="grid gap-4 sm:grid-cols-3">
        <TextField label="Model" name="model" required defaultValue={v('model')} errors={errors.model} hint="As callers name it, e.g. gpt-4o." />
        <TextField label="Provider" name="provider" defaultValue={v('provider')} errors={errors.provider} hint="Optional, e.g. openai." />
        <label className="flex items-start gap-2 pt-7 text-sm text-zinc-800">
          <input type="checkbox" name="prefix" defaultChecked={values.prefix === 'on'} className="mt-0.5 size-4 rounded border-zinc-300 accent-accent-600" />
          <span>Also every model whose name starts with this</span>
        </label>
        <TextField label="Input USD / M tokens" name="input" inputMode="decimal" required defaultValue={v('input')} errors={errors.input} />
        <TextField label="Output USD / M tokens" name="output" inputMode="decimal" defaultValue={v('output')} errors={errors.output} hint="Empty for an input-only model." />
        <label className="flex items-start gap-2 pt-7 text-sm text-zinc-800">
          <input type="checkbox" name="input_only" defaultChecked={values.input_only === 'on'} className="mt-0.5 size-4 rounded border-zinc-300 accent-accent-600" />
          <span>Input only (embeddings, rerankers): priced by its input tokens alone</span>
        </label>
        <TextField label="Cached input USD / M tokens" name="cached_input" inputMode="decimal" defaultValue={v('cached_input')} errors={errors.cached_input} hint="Empty: the input price." />
        <TextField label="Cache write USD / M tokens" name="cache_write" inputMode="decimal" defaultValue={v('cache_write')} errors={errors.cache_write} hint="Empty: the input price." />
        <TextField label="Reasoning USD / M tokens" name="reasoning" inputMode="decimal" defaultValue={v('reasoning')} errors={errors.reasoning} hint="Empty: the output price." />
      </div>
      <ActionError state={state} />
      <Saved state={state} />
      <Button type="submit" pending={pending}>
        Save model price
      </Button>
    </form>
  );
}

/** Removes one override (a new version without it). */
export function RemoveOverrideButton({ orgSlug, model }: { orgSlug: string; model: string }) {
  const [state, formAction, pending] = useActionState(removeModelOverrideAction, null);
  return (
    <form action={formAction} className="inline">
      <input type="hidden" name="org" value={orgSlug} />
      <input type="hidden" name="model" value={model} />
      <Button type="submit" variant="ghost" size="sm" pending={pending}>
        Remove
      </Button>
      {state && !state.ok ? <span className="ml-2 text-xs text-red-700">{state.error.message}</span> : null}
    </form>
  );
}
