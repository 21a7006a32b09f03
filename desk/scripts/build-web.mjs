/**
 * Builds the front end (desk/web, TypeScript) into desk/dist/public with esbuild: the widget as
 * one self-contained script (its CSS inside, for its shadow root), the inbox as one module and
 * one style sheet, next to the pages of desk/public (inbox.html, index.html). Prints the widget's size, gzipped.
 *
 *   node desk/scripts/build-web.mjs [--watch]
 */
import { cpSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const desk = fileURLToPath(new URL('..', import.meta.url));
const out = `${desk}dist/public`;
// Made afresh: nothing a former build wrote (a file since renamed or removed) is served on.
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
cpSync(`${desk}public`, out, { recursive: true });

// Browsers of the last five years; the widget runs on strangers' pages. Safari 14.1, not 14.0:
// esbuild cannot lower destructuring for 14.0 (its compat table marks it broken there) and refuses to build.
const target = ['es2020', 'chrome87', 'firefox78', 'safari14.1', 'edge88'];
const common = { bundle: true, minify: true, sourcemap: 'linked', target, logLevel: 'warning', legalComments: 'none' };

// A style sheet a script imports (`import css from './widget.css'`) becomes a string, for a shadow
// root: minified first, like the script around it (the widget is 0.7 KiB smaller gzipped).
const cssAsText = {
  name: 'css-as-text',
  setup(build) {
    build.onLoad({ filter: /\.css$/ }, async (args) => {
      const { code } = await esbuild.transform(await readFile(args.path, 'utf8'), { loader: 'css', minify: true, target, sourcefile: args.path });
      return { contents: code, loader: 'text', watchFiles: [args.path] };
    });
  },
};

const builds = [
  // The widget: one classic script tag, no globals but window.Desk.
  { ...common, entryPoints: [`${desk}web/widget/main.ts`], outfile: `${out}/widget.js`, format: 'iife', plugins: [cssAsText] },
  // The inbox: a module and its style sheet (same-origin, under a strict CSP).
  { ...common, entryPoints: [`${desk}web/inbox/main.ts`], outfile: `${out}/inbox.js`, format: 'esm' },
  { ...common, entryPoints: [`${desk}web/inbox/inbox.css`], outfile: `${out}/inbox.css` },
];

if (process.argv.includes('--watch')) {
  for (const b of builds) await (await esbuild.context(b)).watch();
  console.log('desk/web: watching');
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  const widget = readFileSync(`${out}/widget.js`);
  if (process.stdout.isTTY) console.log(`desk/web: widget.js ${(widget.length / 1024).toFixed(1)} KiB, ${(gzipSync(widget).length / 1024).toFixed(1)} KiB gzipped`);
}
