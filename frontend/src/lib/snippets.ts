// Ready-to-paste ways to point a tool at Detour.

export type SnippetKind = 'curl' | 'python' | 'node' | 'env';

export const SNIPPET_KINDS: readonly { kind: SnippetKind; label: string }[] = [
  { kind: 'curl', label: 'curl' },
  { kind: 'python', label: 'Python (openai)' },
  { kind: 'node', label: 'Node (openai)' },
  { kind: 'env', label: 'Environment' },
];

/** Any value works as the key while local auth is off; Detour holds the real ones. */
export const CLIENT_KEY = 'detour';

/**
 * The environment variable the snippets read a local key from while
 * local auth is on. A snippet never holds a real key: it is copied into
 * shells, notebooks and chat messages.
 */
export const LOCAL_KEY_ENV = 'DETOUR_API_KEY';

export interface SnippetOptions {
  /** Local auth is on: /v1 wants a local key, read from $DETOUR_API_KEY. */
  auth?: boolean;
}

/**
 * s as one POSIX shell word: as is when it holds only safe characters,
 * else inside '…' where a ' becomes '\''.
 */
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_\-.,:/@%+=]+$/.test(s)) return s;
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** endpoint is the base URL ending in /v1; model a group name. */
export function snippet(kind: SnippetKind, endpoint: string, model: string, opts: SnippetOptions = {}): string {
  const base = endpoint.replace(/\/+$/, '');
  const auth = opts.auth ?? false;
  switch (kind) {
    case 'curl': {
      const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello!' }] });
      return [
        `curl ${shellQuote(base + '/chat/completions')} \\`,
        // Detour refuses a POST to /v1 that is not JSON (415).
        `  -H 'Content-Type: application/json' \\`,
        // Double quotes, so the shell puts the key in.
        auth ? `  -H "Authorization: Bearer $${LOCAL_KEY_ENV}" \\` : `  -H 'Authorization: Bearer ${CLIENT_KEY}' \\`,
        `  -d ${shellQuote(body)}`,
      ].join('\n');
    }
    case 'python':
      return [
        ...(auth ? ['import os', ''] : []),
        'from openai import OpenAI',
        '',
        `client = OpenAI(base_url=${JSON.stringify(base)}, api_key=${auth ? `os.environ[${JSON.stringify(LOCAL_KEY_ENV)}]` : JSON.stringify(CLIENT_KEY)})`,
        'reply = client.chat.completions.create(',
        `    model=${JSON.stringify(model)},`,
        '    messages=[{"role": "user", "content": "Hello!"}],',
        ')',
        'print(reply.choices[0].message.content)',
      ].join('\n');
    case 'node':
      return [
        'import OpenAI from "openai";',
        '',
        `const client = new OpenAI({ baseURL: ${JSON.stringify(base)}, apiKey: ${auth ? `process.env.${LOCAL_KEY_ENV}` : JSON.stringify(CLIENT_KEY)} });`,
        'const reply = await client.chat.completions.create({',
        `  model: ${JSON.stringify(model)},`,
        '  messages: [{ role: "user", content: "Hello!" }],',
        '});',
        'console.log(reply.choices[0].message.content);',
      ].join('\n');
    case 'env':
      return [
        `export OPENAI_BASE_URL=${shellQuote(base)}`,
        auth ? `export OPENAI_API_KEY="$${LOCAL_KEY_ENV}"` : `export OPENAI_API_KEY=${CLIENT_KEY}`,
      ].join('\n');
  }
}
