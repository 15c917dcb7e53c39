import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

export default {
  // TypeScript in <script lang="ts"> is stripped by Vite's own transform.
  preprocess: vitePreprocess(),
};
