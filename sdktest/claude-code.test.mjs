// Claude Code itself, unchanged, against a running Detour, configured the
// way the README says: ANTHROPIC_BASE_URL and ANTHROPIC_AUTH_TOKEN, and a
// "claude-*" group that takes every model name Claude Code sends on its
// own (a dated Sonnet for the answer, Haiku for background work).
// sdk_test.go starts Detour and the fake upstreams and sets DETOUR_URL.
//
// The version is pinned at 2.0.14, the last whose package is plain
// JavaScript for Node 20; later ones download a native binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// run runs a command with stdin closed (claude -p reads a piped stdin
// before it starts) and resolves to its stdout.
function run(cmd, args, opts) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      code === 0 ? resolve(stdout) : reject(new Error(`${cmd} exited ${code ?? signal}: ${stderr}${stdout}`)));
  });
}

async function claude(...args) {
  const home = mkdtempSync(join(tmpdir(), 'claude-home-'));
  const stdout = await run(join('node_modules', '.bin', 'claude'), ['-p', 'Say hello.', '--output-format', 'json', ...args], {
    timeout: 60_000,
    env: {
      PATH: process.env.PATH,
      HOME: home,
      ANTHROPIC_BASE_URL: process.env.DETOUR_URL.replace(/\/v1$/, ''),
      ANTHROPIC_AUTH_TOKEN: 'detour',
      DISABLE_TELEMETRY: '1',
      DISABLE_AUTOUPDATER: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    },
  });
  return JSON.parse(stdout);
}

test('claude -p through Detour, the models it picks itself served by "claude-*"', async () => {
  const out = await claude();
  assert.equal(out.is_error, false, JSON.stringify(out));
  assert.equal(out.result, 'Hello from the fake upstream.');
  const models = Object.keys(out.modelUsage ?? {});
  assert.ok(models.some((m) => m.startsWith('claude-')), JSON.stringify(models));
});

test('claude -p --model naming a group served by an OpenAI upstream (translated)', async () => {
  const out = await claude('--model', 'claude-via-openai');
  assert.equal(out.is_error, false, JSON.stringify(out));
  assert.equal(out.result, 'Hello from the fake upstream.');
});
