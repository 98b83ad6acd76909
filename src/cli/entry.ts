import { runCli } from './main.js';

// The only place that ends the process: everything else returns an exit code.
void runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
