// Bundles the compiled CLI (dist/cli/entry.js and everything it imports, dependencies included) into one
// file, dist/kanka-infra.mjs. Node then reads and links one module instead of a few hundred: start-up is
// most of a no-op run on a small fleet (measured: `plan` on the five-host fleet 0.72 -> 0.65 s).
// ssh2 stays outside: it loads its optional native crypto binding from its own directory.
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/cli/entry.js'],
  outfile: 'dist/kanka-infra.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['ssh2'],
  sourcemap: true,
  logLevel: 'warning',
  // CommonJS dependencies (handlebars) call require() for Node's own modules.
  banner: { js: "import { createRequire as kankaCreateRequire } from 'node:module'; const require = kankaCreateRequire(import.meta.url);" },
});
