/**
 * Builds the widget into widget/dist: widget.js (the loader, IIFE, must stay under 5 KB gzip),
 * call.js (call UI + SIP.js) and chat.js (chat UI), ES modules the loader imports on click.
 * `node widget/build.mjs` (or `npm run build -w widget`); control/scripts/stack.mjs runs it when
 * the sources changed.
 */
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'dist');
const common = {
  bundle: true,
  minify: true,
  target: 'es2020',
  logLevel: 'warning',
  legalComments: 'none',
};

await build({
  ...common,
  entryPoints: [path.join(here, 'src/loader.ts')],
  outfile: path.join(out, 'widget.js'),
  format: 'iife',
});
await build({
  ...common,
  entryPoints: {
    call: path.join(here, 'src/call/index.ts'),
    chat: path.join(here, 'src/chat/index.ts'),
  },
  outdir: out,
  format: 'esm',
});

const loader = gzipSync(readFileSync(path.join(out, 'widget.js'))).length;
const LIMIT = 5 * 1024;
process.stdout.write(`widget: loader ${loader} B gzip (limit ${LIMIT})\n`);
if (loader > LIMIT) {
  process.stderr.write('widget: the loader is over 5 KB gzip\n');
  process.exit(1);
}
