import { describe, expect, it } from 'vitest';
import { shellQuote, snippet } from './snippets';

describe('shellQuote', () => {
  it.each([
    ['http://127.0.0.1:4000/v1', 'http://127.0.0.1:4000/v1'],
    ['a b', "'a b'"],
    ["it's", "'it'\\''s'"],
    ['{"a":1}', `'{"a":1}'`],
    ['', "''"],
  ])('%s → %s', (s, want) => {
    expect(shellQuote(s)).toBe(want);
  });
});

describe('snippet', () => {
  const ep = 'http://127.0.0.1:4000/v1';
  it('curl posts to chat/completions with the model', () => {
    expect(snippet('curl', ep, 'gpt-4o-mini')).toBe(
      [
        'curl http://127.0.0.1:4000/v1/chat/completions \\',
        "  -H 'Content-Type: application/json' \\",
        "  -H 'Authorization: Bearer detour' \\",
        `  -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello!"}]}'`,
      ].join('\n'),
    );
  });
  it('curl survives a model name with a quote', () => {
    expect(snippet('curl', ep, "bob's")).toContain(`-d '{"model":"bob'\\''s",`);
  });
  it('python uses the openai client with base_url', () => {
    const s = snippet('python', ep + '/', 'claude');
    expect(s).toContain('client = OpenAI(base_url="http://127.0.0.1:4000/v1", api_key="detour")');
    expect(s).toContain('    model="claude",');
  });
  it('env sets the OpenAI variables', () => {
    expect(snippet('env', ep, 'x')).toBe('export OPENAI_BASE_URL=http://127.0.0.1:4000/v1\nexport OPENAI_API_KEY=detour');
  });
});
