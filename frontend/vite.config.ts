import { writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig, type Plugin } from 'vitest/config';

// dist/.keep is committed so `//go:embed all:dist` compiles before the
// dashboard is built; Vite empties dist/ on every build, so put it back
// with exactly the committed line and `git status` stays clean.
const KEEP = 'Keeps frontend/dist in git so that //go:embed compiles before the dashboard is built (make frontend).\n';

function keepDistPlaceholder(): Plugin {
  return {
    name: 'detour-keep-dist',
    apply: 'build',
    closeBundle() {
      const dir = fileURLToPath(new URL('./dist/', import.meta.url));
      mkdirSync(dir, { recursive: true });
      writeFileSync(dir + '.keep', KEEP);
    },
  };
}

const gateway = 'http://127.0.0.1:4000';

export default defineConfig({
  // Relative asset URLs: the same build is served at / (desktop window)
  // and at /ui/ (detour serve).
  base: './',
  plugins: [svelte(), keepDistPlaceholder()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // One small app: a single chunk keeps the embedded file list short.
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      '/api': gateway,
      '/v1': gateway,
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
