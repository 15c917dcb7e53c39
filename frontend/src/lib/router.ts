// Hash routes (#/providers): the page works the same at / and at /ui/,
// and a reload never asks the server for a path it does not serve.

export type Page = 'overview' | 'providers' | 'requests' | 'keys' | 'settings';

export const PAGES: readonly { page: Page; label: string }[] = [
  { page: 'overview', label: 'Overview' },
  { page: 'providers', label: 'Providers' },
  { page: 'requests', label: 'Requests' },
  { page: 'keys', label: 'Keys' },
  { page: 'settings', label: 'Settings' },
];

export interface Route {
  page: Page;
  /** The request opened on the Requests page (#/requests/<id>). */
  requestId?: string;
}

export function parseHash(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/');
  const first = parts[0] ?? '';
  const page = PAGES.find((p) => p.page === first)?.page ?? 'overview';
  if (page === 'requests' && parts[1]) {
    let id = parts[1];
    try {
      id = decodeURIComponent(parts.slice(1).join('/'));
    } catch {
      // a malformed escape: use the text as it is
    }
    return { page, requestId: id };
  }
  return { page };
}

export function href(r: Route): string {
  return r.requestId ? `#/${r.page}/${encodeURIComponent(r.requestId)}` : `#/${r.page}`;
}
