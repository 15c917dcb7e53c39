// The dashboard in a real browser against a running `detour serve`.
// TestDashboardInBrowser (dashboard_e2e_test.go) starts the gateway with
// fake providers, sends a failover and a cache hit, and runs this file
// with:
//   DETOUR_URL            the gateway's root, e.g. http://127.0.0.1:40123
//   DETOUR_E2E_KEY_NAME   a key name the config uses that is not set yet
//   DETOUR_E2E_KEY_VALUE  the value to set it to from the Keys page
//   DETOUR_E2E_OUT        where screenshots go
//   DETOUR_E2E_MOCK_MODEL a model group answering without network
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { formatCount, formatPercent, formatUSD } from '../src/lib/format';

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run this through TestDashboardInBrowser (make test)`);
  return v;
}

const base = env('DETOUR_URL');
const keyName = env('DETOUR_E2E_KEY_NAME');
const keyValue = env('DETOUR_E2E_KEY_VALUE');
const out = env('DETOUR_E2E_OUT');
const mockModel = env('DETOUR_E2E_MOCK_MODEL');

// Chromium on a closed network: no background requests, no sandbox (CI
// runs as root), no GPU.
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(out, { recursive: true });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: chromiumArgs });
  context = await browser.newContext({ viewport: { width: 900, height: 600 } });
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
});

afterAll(async () => {
  await browser?.close();
});

async function api<T>(path: string): Promise<T> {
  const r = await fetch(base + path);
  if (!r.ok) throw new Error(`GET ${path}: ${r.status}`);
  return (await r.json()) as T;
}

async function apiText(path: string): Promise<string> {
  return (await fetch(base + path)).text();
}

/** The data-value of the element with this test id, once it has one. */
async function value(testId: string): Promise<string> {
  const el = page.getByTestId(testId).first();
  await el.waitFor();
  await expect.poll(() => el.getAttribute('data-value')).not.toBeNull();
  return (await el.getAttribute('data-value')) ?? '';
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(out, `${name}.png`), fullPage: false });
}

interface Stats {
  version: number;
  endpoint: string;
  requests_per_minute: number;
  requests_total: number;
  failovers_24h: number;
  cache: { hits: number; hit_rate: number; saved_usd: number };
}
interface Spend {
  today_usd: number;
  month_usd: number;
}

describe('dashboard', () => {
  test('the overview shows the numbers the API reports', async () => {
    await page.goto(base + '/ui/');
    await page.getByTestId('requests-total').first().waitFor();
    const stats = await api<Stats>('/api/v1/stats');
    const spend = await api<Spend>('/api/v1/spend');
    expect(stats.failovers_24h).toBe(1);
    expect(stats.cache.hits).toBe(1);

    // Each number, raw (data-value) and as shown (the text, formatted as
    // format.ts documents), equals the API's.
    const want: [string, number, (v: number) => string][] = [
      ['requests-total', stats.requests_total, formatCount],
      ['failovers-24h', stats.failovers_24h, formatCount],
      ['requests-per-minute', stats.requests_per_minute, formatCount],
      ['cache-hit-rate', stats.cache.hit_rate, formatPercent],
      ['cache-saved', stats.cache.saved_usd, formatUSD],
      ['spend-today', spend.today_usd, formatUSD],
      ['spend-month', spend.month_usd, formatUSD],
    ];
    for (const [id, v, format] of want) {
      await expect.poll(() => value(id)).toBe(String(v));
      expect(await page.getByTestId(id).first().textContent()).toContain(format(v));
    }
    expect(stats.cache.hit_rate).toBe(0.5);
    expect(formatPercent(stats.cache.hit_rate)).toBe('50.0%');
    await expect.poll(() => page.getByTestId('endpoint-url').first().textContent()).toContain(stats.endpoint);
    await shot('overview-900x600');

    await page.emulateMedia({ colorScheme: 'dark' });
    await shot('overview-dark-900x600');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  test('numbers follow new requests without a reload', async () => {
    const before = Number(await value('requests-total'));
    const r = await fetch(base + '/v1/chat/completions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: mockModel, messages: [{ role: 'user', content: 'live?' }] }),
    });
    expect(r.status).toBe(200);
    await expect.poll(() => value('requests-total'), { timeout: 5_000 }).toBe(String(before + 1));
  });

  test('providers list every deployment with its health', async () => {
    await page.getByTestId('nav-providers').first().click();
    const health = await api<{ deployments: { id: string; state: string }[] }>('/api/v1/deployments');
    await expect.poll(() => page.getByTestId('deployment-row').count()).toBe(health.deployments.length);
    for (const d of health.deployments) {
      await expect(page.locator(`[data-testid="deployment-row"][data-id="${d.id}"]`).count()).resolves.toBe(1);
    }
    // main's only deployment failed every attempt: it has no latency,
    // and the page shows "—", not 0 ms; the backup that answered has one.
    const stats = await api<{ deployments: Record<string, { requests: number; p50_ms: number | null }> }>('/api/v1/stats');
    const entries = Object.entries(stats.deployments);
    const never = entries.filter(([, d]) => d.requests > 0 && d.p50_ms === null);
    const answered = entries.filter(([, d]) => d.p50_ms !== null);
    expect(never.length).toBeGreaterThan(0);
    expect(answered.length).toBeGreaterThan(0);
    const latency = (id: string) => page.locator(`[data-testid="deployment-row"][data-id="${id}"] [data-testid="deployment-latency"]`);
    for (const [id] of never) {
      expect((await latency(id).textContent())?.trim()).toBe('—');
      expect(await latency(id).getAttribute('data-value')).toBe('');
    }
    for (const [id, d] of answered) {
      expect(await latency(id).getAttribute('data-value')).toContain(`${d.p50_ms}/`);
      expect(await latency(id).textContent()).toMatch(/\d+(\.\d)? m?s/);
    }
    await shot('providers-900x600');
  });

  test('a request opens its attempt timeline', async () => {
    await page.getByTestId('nav-requests').first().click();
    type Log = { data: { id: string; attempts: { deployment: string; class?: string }[] }[] };
    // The log is written in batches: compare once the page and the API
    // agree on the count.
    let log: Log = { data: [] };
    await expect
      .poll(async () => {
        log = await api<Log>('/api/v1/requests');
        const shown = await page.getByTestId('request-row').count();
        return shown === log.data.length ? shown : `page ${shown}, api ${log.data.length}`;
      })
      .toBe(3);
    const failover = log.data.find((r) => r.attempts.length === 2);
    expect(failover).toBeDefined();
    await page.locator(`[data-testid="request-row"][data-id="${failover!.id}"]`).click();
    // The timeline names both deployments and the failed attempt's class.
    for (const a of failover!.attempts) {
      await expect.poll(() => page.locator('body').textContent()).toContain(a.deployment);
    }
    await expect.poll(() => page.locator('body').textContent()).toContain(failover!.attempts[0]!.class!);
    // The failed attempt shows the upstream's own error text.
    await expect.poll(() => page.getByTestId('attempt-error').first().textContent()).toContain('The server is overloaded.');
    await shot('requests-900x600');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('.scrim').count()).toBe(0);
  });

  test('the request log filters, and exports what it shows', async () => {
    type Log = { data: { id: string }[] };
    const rows = page.getByTestId('request-row');
    const shownIds = async () => (await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-id')))).join(',');
    const ids = (log: Log) => log.data.map((r) => r.id).join(',');

    // An error class: the page shows what the API selects.
    await page.getByTestId('filter-class').first().selectOption('server_error');
    const failed = await api<Log>('/api/v1/requests?class=server_error');
    expect(failed.data).toHaveLength(1);
    await expect.poll(shownIds).toBe(ids(failed));

    // Text in the upstream's error, any case, on top of the class.
    await page.getByTestId('filter-q').first().fill('OVERLOADED');
    await expect.poll(shownIds).toBe(ids(failed));
    await page.getByTestId('filter-q').first().fill('no such error text');
    await page.getByTestId('no-matches').first().waitFor();
    await shot('requests-filtered-900x600');

    // A status class, and a bad status the page does not send.
    await page.getByTestId('filter-clear').first().click();
    await page.getByTestId('filter-status').first().fill('2xx');
    await expect.poll(shownIds).toBe(ids(await api<Log>('/api/v1/requests?status=2xx')));
    await page.getByTestId('filter-status').first().fill('6xx');
    expect(await page.getByTestId('filter-status').first().getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByTestId('export-csv').count()).toBe(0);

    // The exports download the filtered set.
    await page.getByTestId('filter-status').first().fill('');
    await page.getByTestId('filter-cache').first().selectOption('HIT');
    const hits = await api<Log>('/api/v1/requests?cache=HIT');
    expect(hits.data).toHaveLength(1);
    await expect.poll(shownIds).toBe(ids(hits));
    const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').first().click()]);
    expect(csvDownload.suggestedFilename()).toMatch(/^detour-requests-.*\.csv$/);
    const csv = readFileSync((await csvDownload.path())!, 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(/^id,time,/);
    expect(csv.slice(1).map((l) => l.split(',')[0])).toEqual(hits.data.map((r) => r.id));
    const [jsonDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-json').first().click()]);
    expect(jsonDownload.suggestedFilename()).toMatch(/^detour-requests-.*\.json$/);
    expect(ids(JSON.parse(readFileSync((await jsonDownload.path())!, 'utf8')) as Log)).toBe(ids(hits));

    await page.getByTestId('filter-clear').first().click();
    await expect.poll(shownIds).toBe(ids(await api<Log>('/api/v1/requests')));
  });

  test('a key set on the Keys page is stored and never shown', async () => {
    await page.getByTestId('nav-keys').first().click();
    const row = page.locator(`[data-testid="key-row"][data-name="${keyName}"]`);
    await row.waitFor();
    await expect.poll(() => page.getByTestId(`key-state-${keyName}`).first().getAttribute('data-value')).toBe('missing');

    await page.getByTestId(`key-input-${keyName}`).first().fill(keyValue);
    await page.getByTestId(`key-save-${keyName}`).first().click();
    await expect.poll(() => page.getByTestId(`key-state-${keyName}`).first().getAttribute('data-value')).toBe('set');

    // Not in the input, not in the page, not in any answer of the API.
    expect(await page.getByTestId(`key-input-${keyName}`).first().inputValue()).toBe('');
    expect(await page.content()).not.toContain(keyValue);
    for (const path of ['/api/v1/keys', '/api/v1/settings', '/api/v1/deployments', '/api/v1/requests', '/api/v1/stats', '/api/v1/app']) {
      expect(await apiText(path)).not.toContain(keyValue);
    }
    const keys = await api<{ data: { name: string; keychain: string }[] }>('/api/v1/keys');
    expect(keys.data.find((k) => k.name === keyName)?.keychain).toBe('set');
    await shot('keys-900x600');
  });

  test('settings are saved into the config, and a refused one says why', async () => {
    await page.getByTestId('nav-settings').first().click();
    type Budget = { scope: string; name: string; daily_usd: number; monthly_usd: number };
    const before = await api<{ listen: string; budgets: Budget[] }>('/api/v1/settings');
    await expect.poll(() => page.getByTestId('settings-listen').first().inputValue()).toBe(before.listen);
    expect(before.budgets).toHaveLength(1);

    // A group the config does not have: the server refuses, the row says why.
    await page.getByTestId('budget-add').first().click();
    await page.locator('[id="budgets[1].scope"]').selectOption('group');
    await page.locator('[id="budgets[1].name"]').fill('no-such-group');
    await page.locator('[id="budgets[1].daily_usd"]').fill('1');
    await page.getByTestId('settings-save').first().click();
    await expect.poll(() => page.locator('.row-error').first().textContent()).toContain('Budget 2');
    expect((await api<{ budgets: Budget[] }>('/api/v1/settings')).budgets).toHaveLength(1);

    // Remove it, raise the global daily budget, save: applied at once.
    await page.getByRole('button', { name: 'Remove budget 2' }).click();
    await page.locator('[id="budgets[0].daily_usd"]').fill('7.5');
    await page.getByTestId('settings-save').first().click();
    await page.getByTestId('settings-saved').first().waitFor();
    expect(await page.getByTestId('settings-restart').count()).toBe(0); // a budget needs no restart
    const after = await api<{ budgets: Budget[] }>('/api/v1/settings');
    expect(after.budgets).toEqual([{ scope: 'global', name: '', daily_usd: 7.5, monthly_usd: 50, on_exceed: 'block' }]);
    const spend = await api<{ budgets: { period: string; limit_usd: number }[] }>('/api/v1/spend');
    expect(spend.budgets.find((b) => b.period === 'daily')?.limit_usd).toBe(7.5);
    await shot('settings-900x600');

    await context.close();
    context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    await page.goto(base + '/ui/');
    await page.getByTestId('requests-total').first().waitFor();
    await shot('overview-1440x900');
  });

  test('the badge says Detour is unreachable while it is, and recovers', async () => {
    const status = page.getByTestId('status').first();
    await status.waitFor();
    const before = await status.getAttribute('data-value');
    expect(before).toBe('online');
    // The page's requests to Detour fail as if it had stopped.
    const errorsBefore = pageErrors.length;
    const refuse = '**/api/v1/**';
    await page.route(refuse, (r) => r.abort('connectionrefused'));
    await expect.poll(() => status.getAttribute('data-value'), { timeout: 10_000 }).toBe('unreachable');
    expect(await status.textContent()).toContain('Detour unreachable');
    expect(await status.textContent()).not.toContain('online');
    await shot('overview-unreachable-1440x900');
    // Detour answers again: the badge follows by itself.
    await page.unroute(refuse);
    await expect.poll(() => status.getAttribute('data-value'), { timeout: 15_000 }).toBe(before);
    expect(await status.textContent()).toContain('online');
    // Chromium logs each refused request; those were on purpose.
    const during = pageErrors.splice(errorsBefore);
    pageErrors.push(...during.filter((e) => !/ERR_CONNECTION_REFUSED/.test(e)));
  });

  test('the page logged no errors', () => {
    // The refused save above is a deliberate 400, which Chromium logs.
    const unexpected = pageErrors.filter((e) => !/status of 400/.test(e));
    expect(unexpected).toEqual([]);
  });
});
