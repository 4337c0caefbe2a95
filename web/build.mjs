// build.mjs - `npm run build`: checks that every module of the UI parses
// and copies web/src to web/dist (or the directory given). The UI is plain
// ES modules with no bundler and no run-time npm package, so this is all
// the build there is; CMake embeds web/src into `promise serve` itself
// (web/embed.cmake). `node build.mjs --check` only checks.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const src = path.join(here, 'src');
const args = process.argv.slice(2);
const checkOnly = args.includes('--check');
const out = path.resolve(args.find(a => !a.startsWith('--')) || path.join(here, 'dist'));
const files = readdirSync(src).sort();
for (const f of files.filter(f => f.endsWith('.js')))
  execFileSync(process.execPath, ['--check', path.join(src, f)], { stdio: 'inherit' });
if (!files.includes('index.html')) throw new Error('web/src/index.html is missing');
if (!checkOnly) {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const f of files) copyFileSync(path.join(src, f), path.join(out, f));
}
console.log(`web: ${files.length} files ${checkOnly ? 'checked' : 'checked and copied to ' + out}`);
