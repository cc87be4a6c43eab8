// Writes brotli (quality 11) and gzip (level 9) copies beside every static file of the
// compiled site, so the server sends them as they are instead of compressing per request.
//   node .ci/precompress.mjs target/site
// A copy newer than its file is kept; files under 1 KiB are not worth it.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = process.argv[2];
if (!root) {
  console.error('usage: node .ci/precompress.mjs SITE_DIR');
  process.exit(2);
}

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (!/\.(br|gz)$/.test(entry.name)) yield path;
  }
}

const fresh = (copy, source) => {
  try {
    return statSync(copy).mtimeMs >= statSync(source).mtimeMs;
  } catch {
    return false;
  }
};

let raw = 0;
let br = 0;
let count = 0;
for (const path of files(root)) {
  const size = statSync(path).size;
  if (size < 1024) continue;
  const data = readFileSync(path);
  if (!fresh(`${path}.br`, path)) {
    writeFileSync(`${path}.br`, brotliCompressSync(data, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 11,
        [constants.BROTLI_PARAM_SIZE_HINT]: size,
        [constants.BROTLI_PARAM_LGWIN]: 24,
      },
    }));
  }
  if (!fresh(`${path}.gz`, path)) writeFileSync(`${path}.gz`, gzipSync(data, { level: 9 }));
  raw += size;
  br += statSync(`${path}.br`).size;
  count += 1;
}
console.log(`precompressed ${count} files: ${(raw / 1024).toFixed(0)} KiB raw, ${(br / 1024).toFixed(0)} KiB brotli`);
