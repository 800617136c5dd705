// compress.mjs DIR: writes NAME.gz beside each script and stylesheet of
// DIR/assets larger than 1 KB, so that mediationd sends them compressed to
// browsers that take gzip (an office PC on a slow township line loads
// about a fifth of the bytes) without compressing at each request.
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";

const dir = path.join(process.argv[2] ?? "dist", "assets");
let files = 0;
let raw = 0;
let gz = 0;
for (const name of await readdir(dir)) {
  if (!/\.(js|css|svg|json)$/.test(name)) continue;
  const body = await readFile(path.join(dir, name));
  if (body.length < 1024) continue;
  const z = gzipSync(body, { level: 9 });
  await writeFile(path.join(dir, `${name}.gz`), z);
  files++;
  raw += body.length;
  gz += z.length;
}
console.log(`compress: ${files} assets, ${(raw / 1024).toFixed(0)} KB → ${(gz / 1024).toFixed(0)} KB gzipped`);
