import { runCli } from './main.js';

// The only place that ends the process: everything else returns an exit code.
process.exitCode = await runCli(process.argv.slice(2));
