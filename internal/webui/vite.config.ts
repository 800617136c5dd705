/// <reference types="vitest/config" />
// Vite configuration of 调解工作台. The build targets Chromium 87, the
// oldest browser (信创 office PCs) the workbench supports; scripts/
// check-target.mjs checks the output against it. `npm run dev` proxies the
// API to a mediationd on localhost:8080 (override with MEDIATION_API).
import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";

const api = process.env.MEDIATION_API ?? "http://localhost:8080";

export default defineConfig({
  plugins: [vue()],
  base: "/",
  build: {
    target: ["chrome87"],
    cssTarget: ["chrome87"],
    outDir: "dist",
    // dist/.keep is committed (the Go package embeds dist/); clean-dist.mjs
    // empties the rest before each build.
    emptyOutDir: false,
    assetsDir: "assets",
    chunkSizeWarningLimit: 1200,
    reportCompressedSize: false,
  },
  server: {
    proxy: {
      "/v1": api,
      "/openapi.json": api,
    },
  },
  test: {
    environment: "happy-dom",
    include: ["src/**/*.test.ts", "scripts/**/*.test.ts"],
  },
});
