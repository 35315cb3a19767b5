/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig, type ProxyOptions } from "vite";

// Django (runserver / daphne / uvicorn) during development.
// Override with e.g. `FX_BACKEND_URL=http://127.0.0.1:8001 npm run dev`.
const backend = process.env.FX_BACKEND_URL ?? "http://127.0.0.1:8000";

const toBackend: ProxyOptions = {
  target: backend,
  // Keep the browser's Host header (localhost:5173) so Django's CSRF origin
  // check passes for the admin login form; Django's DEBUG ALLOWED_HOSTS
  // already accepts localhost.
  changeOrigin: false,
};

export default defineConfig(({ command }) => ({
  plugins: [react()],
  // Django serves the built bundle under /static/ (whitenoise) and serves
  // dist/index.html itself at "/" and every non-API path. The dev server
  // serves the SPA from "/" so client-side routes look the same as in prod.
  base: command === "build" ? "/static/" : "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
  },
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      "/api": toBackend,
      "/ws": { ...toBackend, ws: true },
      "/admin": toBackend,
      "/healthz": toBackend,
      "/readyz": toBackend,
      "/metrics": toBackend,
    },
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
    unstubGlobals: true,
  },
}));
