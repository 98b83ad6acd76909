import { Interruption } from './interrupt.js';
import { processIo } from './io.js';
import { runCli } from './main.js';
import { EXIT } from './exit-codes.js';

// The only place that ends the process: everything else returns an exit code.
const interruption = new Interruption();
process.on('SIGINT', () => {
  if (interruption.request()) {
    process.stderr.write(
      '\ninterrupted: no new change starts; the changes in flight finish, then the locks are released (Ctrl-C again quits at once and leaves the locks)\n',
    );
    return;
  }
  process.exit(EXIT.INTERRUPTED);
});
void runCli(process.argv.slice(2), { ...processIo(), interrupt: interruption }).then((code) => {
  process.exitCode = code;
});
