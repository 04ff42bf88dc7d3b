import { describe, expect, it } from 'vitest';
import { defaultUpstreamFrom, matchesModel, pickUpstream } from './upstream-routing.ts';
import type { Upstream } from './upstreams.ts';

const up = (id: string, modelPatterns: string[]): Upstream => ({ id, name: id, baseUrl: `http://${id}`, apiKey: 'k', modelPatterns });

describe('matchesModel', () => {
  it('matches exact names and * globs, treating other characters literally', () => {
    expect(matchesModel('gpt-4o', 'gpt-4o')).toBe(true);
    expect(matchesModel('gpt-4o', 'gpt-4o-mini')).toBe(false);
    expect(matchesModel('gpt-4o*', 'gpt-4o-mini')).toBe(true);
    expect(matchesModel('*', 'anything')).toBe(true);
    expect(matchesModel('meta/*-instruct', 'meta/llama-3-instruct')).toBe(true);
    expect(matchesModel('gpt.4', 'gpt-4')).toBe(false);
  });
});

describe('pickUpstream', () => {
  const upstreams = [up('all', ['*']), up('openai', ['gpt-*']), up('mini', ['gpt-4o-mini']), up('o', ['o1*', 'o3*'])];

  it('prefers an exact name, then the longest pattern, then the catch-all', () => {
    expect(pickUpstream(upstreams, 'gpt-4o-mini')?.id).toBe('mini');
    expect(pickUpstream(upstreams, 'gpt-4o')?.id).toBe('openai');
    expect(pickUpstream(upstreams, 'o3-pro')?.id).toBe('o');
    expect(pickUpstream(upstreams, 'claude-3')?.id).toBe('all');
  });

  it('returns null when nothing serves the model', () => {
    expect(pickUpstream([up('openai', ['gpt-*'])], 'claude-3')).toBeNull();
  });
});

describe('defaultUpstreamFrom', () => {
  it('serves every model from the configured URL, or is absent', () => {
    expect(defaultUpstreamFrom({ baseUrl: 'http://127.0.0.1:9/v1/', apiKey: 'sk' })).toEqual({
      id: 'default',
      name: 'default',
      baseUrl: 'http://127.0.0.1:9/v1',
      apiKey: 'sk',
      modelPatterns: ['*'],
    });
    expect(defaultUpstreamFrom({})).toBeNull();
  });
});
