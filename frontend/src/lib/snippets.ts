// Ready-to-paste ways to point a tool at Detour.

export type SnippetKind = 'curl' | 'python' | 'env';

export const SNIPPET_KINDS: readonly { kind: SnippetKind; label: string }[] = [
  { kind: 'curl', label: 'curl' },
  { kind: 'python', label: 'Python (openai)' },
  { kind: 'env', label: 'Environment' },
];

/** Any value works as the key; Detour holds the real ones. */
export const CLIENT_KEY = 'detour';

/**
 * s as one POSIX shell word: as is when it holds only safe characters,
 * else inside '…' where a ' becomes '\''.
 */
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_\-.,:/@%+=]+$/.test(s)) return s;
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** endpoint is the base URL ending in /v1; model a group name. */
export function snippet(kind: SnippetKind, endpoint: string, model: string): string {
  const base = endpoint.replace(/\/+$/, '');
  switch (kind) {
    case 'curl': {
      const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello!' }] });
      return [
        `curl ${shellQuote(base + '/chat/completions')} \\`,
        `  -H 'Content-Type: application/json' \\`,
        `  -H 'Authorization: Bearer ${CLIENT_KEY}' \\`,
        `  -d ${shellQuote(body)}`,
      ].join('\n');
    }
    case 'python':
      return [
        'from openai import OpenAI',
        '',
        `client = OpenAI(base_url=${JSON.stringify(base)}, api_key=${JSON.stringify(CLIENT_KEY)})`,
        'reply = client.chat.completions.create(',
        `    model=${JSON.stringify(model)},`,
        '    messages=[{"role": "user", "content": "Hello!"}],',
        ')',
        'print(reply.choices[0].message.content)',
      ].join('\n');
    case 'env':
      return [`export OPENAI_BASE_URL=${shellQuote(base)}`, `export OPENAI_API_KEY=${CLIENT_KEY}`].join('\n');
  }
}
