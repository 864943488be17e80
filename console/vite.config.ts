// The console's build: Preact JSX through Vite's own transformer, output in console/dist
// (git-ignored), hashed assets under assets/. Imports from schemas/ resolve through the root
// package.json's "#schemas/*" map, so the console's types are the API's own.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // No inline scripts or styles anywhere: the CSP allows neither.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  server: { port: 5173, strictPort: true },
});
