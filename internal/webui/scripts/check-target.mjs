// check-target.mjs DIR: fails the build when a JavaScript file under DIR
// uses syntax or built-ins Chromium 87 lacks (see target.mjs).
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { problems } from "./target.mjs";

const dir = process.argv[2] ?? "dist";
let bad = 0;
let files = 0;
for (const entry of await readdir(dir, { recursive: true })) {
  if (!entry.endsWith(".js")) continue;
  files++;
  const found = problems(await readFile(path.join(dir, entry), "utf8"));
  for (const p of found) console.error(`${path.join(dir, entry)}:${p}`);
  bad += found.length;
}
if (files === 0) {
  console.error(`check-target: no JavaScript under ${dir}; build first`);
  process.exit(1);
}
if (bad) {
  console.error(`check-target: ${bad} construct(s) newer than Chromium 87, the supported floor; transpile or avoid them`);
  process.exit(1);
}
console.log(`check-target: ${files} JavaScript files run on Chromium 87`);
