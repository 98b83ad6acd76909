// Bundles the compiled CLI (dist/cli/entry.js and everything it imports, dependencies included) into one
// file, dist/kanka-infra.cjs. Node then reads one module instead of a few hundred: start-up is most of a
// no-op run on a small fleet (measured: `plan` on the five-host fleet 0.72 -> 0.65 s). CommonJS, so that
// bin/kanka-infra can run it through a vm.Script with a V8 code cache (src/launch/run-bundle.ts).
// ssh2 stays outside: it loads its optional native crypto binding from its own directory.
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/cli/entry.js'],
  outfile: 'dist/kanka-infra.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['ssh2'],
  // import.meta.url (createRequire of ssh2 when a key is parsed) means this file in the bundle.
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: "const importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  sourcemap: true,
  logLevel: 'warning',
});
