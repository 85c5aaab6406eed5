import { defineConfig } from "vite";

// `npm run dev` serves the client with hot reload and sends /api to the gateway of a
// running `make dev` (EDVENT_GATEWAY overrides where), so the browser sees one origin
// exactly as in production.
const gateway = process.env.EDVENT_GATEWAY ?? "http://127.0.0.1:8080";

export default defineConfig({
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  resolve: {
    alias: { react: "preact/compat", "react-dom": "preact/compat" },
  },
  build: {
    outDir: process.env.EDVENT_WEB_OUT ?? "dist",
    emptyOutDir: true,
    // No inline scripts or data: URLs: the gateway's CSP allows scripts from 'self' only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  server: {
    proxy: { "/api": { target: gateway, changeOrigin: false } },
  },
});
