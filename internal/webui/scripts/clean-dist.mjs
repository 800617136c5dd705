// clean-dist.mjs: empties dist/ before a build, except dist/.keep, the
// committed placeholder that lets the Go package embed the directory
// before the UI is built.
import { readdir, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../dist");
for (const entry of await readdir(dist).catch(() => [])) {
  if (entry !== ".keep") await rm(path.join(dist, entry), { recursive: true, force: true });
}
