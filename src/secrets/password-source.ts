import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { ConfigError, describeFsError } from '../diagnostics/diagnostic.js';

/** Names the option or variable a password file came from, for error messages. */
export interface PasswordFileRef {
  /** The absolute path. */
  path: string;
  /** The path as the operator wrote it. */
  shown: string;
  /** Where it was named: "--vault-password-file", "--vault-id prod@...", "KANKA_VAULT_PASSWORD_FILE". */
  from: string;
  /** The vault ID label, given to client scripts (`*-client`) as `--vault-id <label>`. */
  label?: string;
  /**
   * False for a file named by the project (the inventory's vault_password_file): a cloned repository
   * must not be able to run a program on the operator's machine, so an executable one is refused.
   */
  allowScript?: boolean;
}

// Python's bytes.strip(): ASCII whitespace only, like ansible-vault does for password files.
const EDGE_WHITESPACE = /^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g;
// What ansible-vault strips from a password script's output: line ends only.
const EDGE_LINE_ENDS = /^[\r\n]+|[\r\n]+$/g;

/**
 * Reads a vault password the way ansible-vault does: an executable file is run (stdin and stderr
 * stay the terminal's, so it may prompt) and its stdout, without surrounding line ends, is the
 * password; any other file is read and its surrounding whitespace stripped. A script whose name
 * ends in "-client" (before the extension) is given `--vault-id <label>`, like Ansible's client
 * scripts; exit status 2 from it means it knows no password for that label.
 */
export function readPasswordSource(ref: PasswordFileRef): string {
  let executable: boolean;
  try {
    const st = statSync(ref.path);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    executable = (st.mode & 0o111) !== 0;
  } catch (err) {
    throw cannotRead(ref, err);
  }
  if (executable && ref.allowScript === false)
    throw new ConfigError([
      {
        file: ref.shown,
        message: `the vault password file (from ${ref.from}) is executable: a password script named by the project is not run`,
        hint: `pass it with --vault-password-file ${ref.shown} (or --vault-id) to run it, or remove its executable bit (chmod a-x) if it holds the password`,
      },
    ]);
  return executable ? runPasswordScript(ref) : readPasswordFile(ref);
}

/** Ansible's rule: "something-client" or "something-client.<ext>". */
export function isClientScript(path: string): boolean {
  const name = basename(path);
  return name.slice(0, name.length - extname(name).length).endsWith('-client');
}

function readPasswordFile(ref: PasswordFileRef): string {
  let content: string;
  try {
    content = readFileSync(ref.path, 'utf8');
  } catch (err) {
    throw cannotRead(ref, err);
  }
  const password = content.replace(EDGE_WHITESPACE, '');
  if (password === '')
    throw new ConfigError([
      {
        file: ref.shown,
        message: `the vault password file (from ${ref.from}) is empty`,
        hint: 'write the password on its first line',
      },
    ]);
  return password;
}

function runPasswordScript(ref: PasswordFileRef): string {
  const client = isClientScript(ref.path);
  const args = client ? ['--vault-id', ref.label ?? 'default'] : [];
  const what = client ? 'vault password client script' : 'vault password script';
  // stderr is the terminal's (as with Ansible), so a script may ask for something there.
  const r = spawnSync(ref.path, args, { stdio: ['inherit', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
  const fail = (why: string, hint: string) =>
    new ConfigError([{ file: ref.shown, message: `the ${what} (from ${ref.from}) ${why}`, hint }]);
  if (r.error) {
    throw fail(
      `could not be run: ${describeFsError(r.error)}`,
      'if it is not a script, remove its executable bit (chmod a-x); a script needs a #! line',
    );
  }
  if (r.signal) throw fail(`was killed by ${r.signal}`, 'run it by hand to see why');
  if (client && r.status === 2)
    throw fail(`knows no password for vault ID "${ref.label ?? 'default'}" (exit status 2)`, 'check the label');
  if (r.status !== 0) throw fail(`failed (exit status ${r.status ?? '?'})`, 'run it by hand to see why');
  const password = r.stdout.toString('utf8').replace(EDGE_LINE_ENDS, '');
  if (password === '') throw fail('printed no password', 'it must print the password on stdout');
  return password;
}

function cannotRead(ref: PasswordFileRef, err: unknown): ConfigError {
  return new ConfigError([
    {
      file: ref.shown,
      message: `cannot read the vault password file (from ${ref.from}): ${describeFsError(err)}`,
      hint: 'check the path (a relative path is from the current directory)',
    },
  ]);
}
