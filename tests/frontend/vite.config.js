// Vite dev server for the browser test: the README's recipe, with the target taken from
// RILL_EMU_URL when set (as `rill-emu exec -- npx vite` sets it).
import { defineConfig } from "vite";

export default defineConfig({
  server: {
    proxy: {
      // Everything under /v1 goes to the emulator, path unchanged (no rewrite).
      "/v1": process.env.RILL_EMU_URL ?? "http://localhost:9009",
    },
  },
});
