import { describe, expect, it } from 'vitest';
import { raw } from '../../../src/shell/command.js';
import { RemoteError } from '../../../src/transport/host.js';
import { ShellHost } from '../../../src/transport/shell-host.js';
import type { Transport } from '../../../src/transport/transport.js';
import { LocalTransport } from '../../support/local-transport.js';

describe('ShellHost.runCommand (an operator command line, as ssh would run it)', () => {
  it('runs the line with the host shell: expansions, pipes, stderr and the exit status as they are', async () => {
    const host = new ShellHost(new LocalTransport(), false);
    const r = await host.runCommand(raw('echo "out $((1 + 2))" | tr a-z A-Z; echo oops >&2; exit 7'));
    expect(r).toEqual({ stdout: 'OUT 3\n', stderr: 'oops\n', code: 7 });
  });

  it('a command reading stdin reads nothing, and a trailing comment does not swallow the end of the script', async () => {
    const host = new ShellHost(new LocalTransport(), false);
    expect(await host.runCommand(raw('wc -c # count what arrives'))).toMatchObject({ stdout: '0\n', code: 0 });
  });

  it('through sudo -n when the inventory says sudo; sudo asking for a password is said as such', async () => {
    const local = new LocalTransport();
    await new ShellHost(local, false).runCommand(raw('true'));
    const seen = local.seen;
    const sudoRefuses: Transport = {
      roundTrips: 0,
      close() {},
      exec: (command) => {
        seen.push(command);
        return Promise.resolve({ stdout: '', stderr: 'sudo: a password is required\n', code: 1 });
      },
    };
    const refused = new ShellHost(sudoRefuses, true).runCommand(raw('uptime'));
    await expect(refused).rejects.toThrow(RemoteError);
    await expect(refused).rejects.toThrow(/sudo needs a password/);
    expect(seen).toEqual(['sh -s', 'sudo -n -- sh -s']);
  });
});
