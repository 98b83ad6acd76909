import { sh, type ShellCommand } from '../shell/command.js';
import type { ExecResult, Transport } from './transport.js';

/**
 * Runs a POSIX sh script on the host. The script travels on stdin (`sh -s`), so it is not
 * limited by argument length and never shows in `ps`. With sudo, the whole script runs as root.
 */
export function runScript(transport: Transport, script: ShellCommand, sudo: boolean): Promise<ExecResult> {
  const command = sudo ? 'sudo -n -- sh -s' : 'sh -s';
  // C locale: stat, ls and friends must print the same words on every host.
  return transport.exec(command, `export LC_ALL=C\n${script.text}\n`);
}

export function sudoProblem(r: ExecResult): string | undefined {
  if (/sudo: (a password is required|a terminal is required)/.test(r.stderr)) {
    return 'sudo needs a password: give the SSH user passwordless sudo (NOPASSWD) or connect as root';
  }
  if (/sudo: (command not found|not found)/.test(r.stderr) || (r.code === 127 && /sudo/.test(r.stderr))) {
    return 'sudo is not installed on the host but ssh.sudo is set';
  }
  return undefined;
}

/**
 * Runs an operator's command line as the host's own shell would, in the login user's locale (no
 * LC_ALL=C: the output is for a person). It travels on stdin like a script, so it is not limited by
 * argument length; with sudo it runs as root. It reads /dev/null, not the rest of its script; the
 * newline before ")" keeps a trailing comment from swallowing it.
 */
export function runCommandLine(transport: Transport, command: ShellCommand, sudo: boolean): Promise<ExecResult> {
  return transport.exec(sudo ? 'sudo -n -- sh -s' : 'sh -s', `${sh`(${command}\n) </dev/null`.text}\n`);
}
