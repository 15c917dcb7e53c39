import { describe, expect, it } from 'vitest';
import { SNIPPET_KINDS, shellQuote, snippet } from './snippets';

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
  it('node uses the openai package with baseURL', () => {
    expect(snippet('node', ep, 'claude')).toBe(
      [
        'import OpenAI from "openai";',
        '',
        'const client = new OpenAI({ baseURL: "http://127.0.0.1:4000/v1", apiKey: "detour" });',
        'const reply = await client.chat.completions.create({',
        '  model: "claude",',
        '  messages: [{ role: "user", content: "Hello!" }],',
        '});',
        'console.log(reply.choices[0].message.content);',
      ].join('\n'),
    );
  });
  it('auth off is the same as no options', () => {
    for (const { kind } of SNIPPET_KINDS) expect(snippet(kind, ep, 'm', { auth: false })).toBe(snippet(kind, ep, 'm'));
  });
});

describe('snippet with local auth on', () => {
  const ep = 'http://127.0.0.1:4000/v1';
  const on = { auth: true };
  it('curl sends the key from $DETOUR_API_KEY, in double quotes so the shell expands it', () => {
    expect(snippet('curl', ep, 'gpt-4o-mini', on)).toBe(
      [
        'curl http://127.0.0.1:4000/v1/chat/completions \\',
        "  -H 'Content-Type: application/json' \\",
        '  -H "Authorization: Bearer $DETOUR_API_KEY" \\',
        `  -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello!"}]}'`,
      ].join('\n'),
    );
  });
  it('python reads the key from the environment', () => {
    const s = snippet('python', ep, 'claude', on);
    expect(s.startsWith('import os\n\nfrom openai import OpenAI\n')).toBe(true);
    expect(s).toContain('client = OpenAI(base_url="http://127.0.0.1:4000/v1", api_key=os.environ["DETOUR_API_KEY"])');
  });
  it('node reads the key from the environment', () => {
    expect(snippet('node', ep, 'claude', on)).toContain(
      'const client = new OpenAI({ baseURL: "http://127.0.0.1:4000/v1", apiKey: process.env.DETOUR_API_KEY });',
    );
  });
  it('env hands $DETOUR_API_KEY on as the OpenAI key', () => {
    expect(snippet('env', ep, 'x', on)).toBe('export OPENAI_BASE_URL=http://127.0.0.1:4000/v1\nexport OPENAI_API_KEY="$DETOUR_API_KEY"');
  });
  it.each(SNIPPET_KINDS.map((k) => k.kind))('%s names the variable, never a key value', (kind) => {
    const s = snippet(kind, ep, 'gpt-4o-mini', on);
    expect(s).toContain('DETOUR_API_KEY');
    expect(s).not.toMatch(/["'\s]detour["'\s]/);
    expect(s).not.toContain('dtr-');
  });
});

describe('every curl snippet', () => {
  it.each([
    ['auth off', {}],
    ['auth on', { auth: true }],
  ])('posts JSON with its Content-Type (%s; Detour answers 415 without)', (_n, opts) => {
    const s = snippet('curl', 'http://127.0.0.1:4000/v1', "bob's model", opts);
    expect(s).toContain(' -d ');
    expect(s).toContain("-H 'Content-Type: application/json'");
  });
});
