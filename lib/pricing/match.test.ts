import { describe, expect, it } from 'vitest';
import { matchesModel, matchRuleSchema, normalizeModel, orgMatchRuleSchema, selectPrice, type MatchRule } from './match.ts';

describe('matchesModel', () => {
  it('compares names without case, except regexes', () => {
    expect(matchesModel({ equals: 'GPT-4o' }, normalizeModel('  gpt-4O '))).toBe(true);
    expect(matchesModel({ starts_with: 'claude-' }, 'claude-opus-4-1')).toBe(true);
    expect(matchesModel({ ends_with: '-mini' }, 'gpt-4o-mini')).toBe(true);
    expect(matchesModel({ contains: 'sonnet' }, 'claude-3-7-sonnet-latest')).toBe(true);
    expect(matchesModel({ regex: '^o[134](-|$)' }, 'o3')).toBe(true);
    expect(matchesModel({ regex: '^o[134](-|$)' }, 'omni')).toBe(false);
  });

  it('combines rules with or and and', () => {
    const rule: MatchRule = { and: [{ starts_with: 'gemini-2.5-pro' }, { regex: '^(?!.*-tts)' }] };
    expect(matchesModel(rule, 'gemini-2.5-pro-preview')).toBe(true);
    expect(matchesModel(rule, 'gemini-2.5-pro-tts')).toBe(false);
    expect(matchesModel({ or: [{ equals: 'a' }, { equals: 'b' }] }, 'b')).toBe(true);
  });

  it('accepts only well-formed rules', () => {
    expect(matchRuleSchema.safeParse({ or: [{ equals: 'x' }, { starts_with: 'y' }] }).success).toBe(true);
    expect(matchRuleSchema.safeParse({ regex: '(' }).success).toBe(false);
    expect(matchRuleSchema.safeParse({ equals: 'x', starts_with: 'y' }).success).toBe(false);
    expect(matchRuleSchema.safeParse({ or: [] }).success).toBe(false);
  });

  it('keeps regexes out of the rules orgs write', () => {
    expect(orgMatchRuleSchema.safeParse({ starts_with: 'house-' }).success).toBe(true);
    expect(orgMatchRuleSchema.safeParse({ regex: '^(a+)+$' }).success).toBe(false);
    expect(orgMatchRuleSchema.safeParse({ or: [{ equals: 'a' }, { regex: 'b' }] }).success).toBe(false);
  });
});

describe('selectPrice', () => {
  const rows = [
    { provider: 'openai', match: { equals: 'gpt-4o' } as MatchRule, id: 1 },
    { provider: 'azure', match: { equals: 'gpt-4o' } as MatchRule, id: 2 },
    { provider: 'openrouter', match: { starts_with: 'gpt-' } as MatchRule, id: 3 },
  ];

  it('takes the first match, or the named provider’s', () => {
    expect(selectPrice(rows, 'gpt-4o')?.id).toBe(1);
    expect(selectPrice(rows, 'gpt-4o', 'azure')?.id).toBe(2);
    expect(selectPrice(rows, 'gpt-4o', 'nobody')?.id).toBe(1);
    expect(selectPrice(rows, 'gpt-5')?.id).toBe(3);
    expect(selectPrice(rows, 'llama')).toBeNull();
  });
});
