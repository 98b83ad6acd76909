import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Argument, InvalidArgumentError, type Command } from 'commander';
import { isMap, isScalar, parseDocument } from 'yaml';
import { ConfigError, describeFsError } from '../../diagnostics/diagnostic.js';
import { decryptOrThrow, decryptWithSecrets } from '../../secrets/load-secrets.js';
import { encryptVault, isVaultText } from '../../secrets/vault-format.js';
import { DEFAULT_VAULT_ID, vaultIdOf } from '../../secrets/vault-id.js';
import { encryptingSecret, newVaultSecret, requiredVaultSecrets, type NewPasswordOptions } from '../vault-passwords.js';
import { encryptString, type EncryptStringOptions } from './vault-encrypt-string.js';
import { UsageError } from '../../diagnostics/usage-error.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { write, type Io } from '../io.js';
import { writeAtomic } from '../../local/write-atomic.js';

export const VAULT_ACTIONS = ['encrypt', 'decrypt', 'view', 'edit', 'create', 'rekey', 'encrypt-string'] as const;
export type VaultAction = (typeof VAULT_ACTIONS)[number];

export interface VaultOptions extends NewPasswordOptions, EncryptStringOptions {
  passwordFile?: string;
  /** `--vault-id label@source`, repeatable. */
  vaultIds?: string[];
  /** Which labelled password encrypts (encrypt, create, encrypt-string) when several are given. */
  encryptVaultId?: string;
  /** Environment for the password variables and the editor; process.env unless a test injects one. */
  env?: NodeJS.ProcessEnv;
}

/**
 * ansible-vault compatible file handling: the files it writes are read by ansible-vault and the other
 * way round. Plaintext never goes to stderr or into an error message; `view` is the only action that
 * prints it, and `edit`/`create` only put it in a private temporary file that is overwritten and
 * removed afterwards, whatever happens. `target` is the file, or for encrypt-string the value.
 */
export async function vaultCommand(
  action: VaultAction,
  target: string | undefined,
  opts: VaultOptions,
  io: Io,
): Promise<ExitCode> {
  const env = opts.env ?? process.env;
  const passwordOptions = {
    ...(opts.vaultIds ? { vaultIds: opts.vaultIds } : {}),
    ...(opts.passwordFile !== undefined ? { passwordFile: opts.passwordFile } : {}),
    env,
  };
  if (action === 'encrypt-string') {
    const secret = async () =>
      encryptingSecret(await requiredVaultSecrets(passwordOptions, io, '(encrypt-string)'), opts.encryptVaultId);
    return encryptString(target, opts, secret, io);
  }
  if (target === undefined)
    throw new UsageError(`\`vault ${action}\` needs a file: kanka-infra vault ${action} <file>`);
  const file = target;
  const path = resolve(io.cwd, file);
  const secrets = () => requiredVaultSecrets(passwordOptions, io, file);
  const encrypting = async () => encryptingSecret(await secrets(), opts.encryptVaultId);
  switch (action) {
    case 'encrypt': {
      const data = readInput(path, file);
      if (isVaultText(data))
        throw new UsageError(`${file} is already encrypted; nothing was changed (use \`vault edit\` to change it)`);
      const key = await encrypting();
      writeVault(path, encryptVault(data, key.password, { vaultId: key.label }));
      write(io.stdout, `encrypted ${file}`);
      return EXIT.OK;
    }
    case 'decrypt': {
      const data = readInput(path, file);
      if (!isVaultText(data))
        throw new UsageError(`${file} is not encrypted (no $ANSIBLE_VAULT header); nothing was changed`);
      writeVault(path, decryptOrThrow(data, await secrets(), file));
      write(io.stdout, `decrypted ${file}`);
      write(
        io.stderr,
        `warning: ${file} is now PLAINTEXT: do not commit it; encrypt it again with \`kanka-infra vault encrypt ${file}\``,
      );
      return EXIT.OK;
    }
    case 'view': {
      const data = readInput(path, file);
      if (!isVaultText(data)) throw new UsageError(`${file} is not encrypted (no $ANSIBLE_VAULT header)`);
      io.stdout.write(decryptOrThrow(data, await secrets(), file));
      return EXIT.OK;
    }
    case 'rekey': {
      const data = readInput(path, file);
      if (!isVaultText(data))
        throw new UsageError(
          `${file} is not encrypted (no $ANSIBLE_VAULT header); encrypt it with \`kanka-infra vault encrypt ${file}\``,
        );
      const { plaintext } = decryptWithSecrets(data, await secrets(), file);
      const next = await newVaultSecret(opts, vaultIdOf(data, file), io);
      writeVault(path, encryptVault(plaintext, next.password, { vaultId: next.label }));
      write(io.stdout, `rekeyed ${file}${next.label === DEFAULT_VAULT_ID ? '' : ` (vault ID ${next.label})`}`);
      return EXIT.OK;
    }
    case 'edit': {
      const data = readInput(path, file);
      if (!isVaultText(data))
        throw new UsageError(
          `${file} is not encrypted (no $ANSIBLE_VAULT header); encrypt it first with \`kanka-infra vault encrypt ${file}\``,
        );
      // Saved with the password that opened it, under the file's own vault ID.
      const { plaintext: original, secret } = decryptWithSecrets(data, await secrets(), file);
      const vaultId = vaultIdOf(data, file);
      return editInTempFile(original, path, file, env, io, (edited) => {
        if (edited.equals(original)) {
          write(io.stderr, `no changes; ${file} was left as it was`);
          return EXIT.OK;
        }
        writeVault(path, encryptVault(edited, secret.password, vaultId === undefined ? {} : { vaultId }));
        write(io.stdout, `saved ${file} (encrypted)`);
        return EXIT.OK;
      });
    }
    case 'create': {
      if (existsSync(path))
        throw new UsageError(`${file} already exists; use \`kanka-infra vault edit ${file}\` to change it`);
      if (!existsSync(dirname(path))) throw new UsageError(`the directory of ${file} does not exist`);
      const key = await encrypting();
      return editInTempFile(Buffer.alloc(0), path, file, env, io, (edited) => {
        if (isBlank(edited)) {
          write(io.stderr, `empty content; ${file} was not created`);
          return EXIT.OK;
        }
        writeVault(path, encryptVault(edited, key.password, { vaultId: key.label }), true);
        write(io.stdout, `created ${file} (encrypted)`);
        return EXIT.OK;
      });
    }
  }
}

interface VaultCliOptions {
  vaultPasswordFile?: string;
  vaultId?: string[];
  encryptVaultId?: string;
  newVaultPasswordFile?: string;
  newVaultId?: string;
  name?: string;
  stdinName?: string;
}

/** `encrypt_string` is ansible-vault's spelling: accepted too. */
function parseAction(value: string): VaultAction {
  const action = value === 'encrypt_string' ? 'encrypt-string' : value;
  if ((VAULT_ACTIONS as readonly string[]).includes(action)) return action as VaultAction;
  throw new InvalidArgumentError(`Allowed choices are ${VAULT_ACTIONS.join(', ')}.`);
}

/** The action argument: its choices listed (help, completion), with ansible-vault's spelling accepted too. */
function vaultActionArgument(): Argument {
  const action = new Argument('<action>', `what to do: ${VAULT_ACTIONS.join(', ')}`).argParser(parseAction);
  action.argChoices = [...VAULT_ACTIONS];
  return action;
}

/** Adds `vault <action> [file]` to the program. */
export function registerVaultCommand(program: Command, io: Io, setExit: (c: ExitCode) => void): void {
  program
    .command('vault')
    .addArgument(vaultActionArgument())
    .argument('[file]', 'the vault file (ansible-vault format), or for encrypt-string the value')
    .description(
      'encrypt, decrypt, view, edit, create or rekey an encrypted secrets file, or encrypt one value (ansible-vault compatible)',
    )
    .option(
      '--vault-password-file <file>',
      'the vault password: read from this file, or its output if it is executable (a script)',
    )
    .option(
      '--vault-id <label@source>',
      'a labelled password: label@file, label@script or label@prompt (repeatable; tried matching label first)',
      (v: string, all: string[] | undefined) => [...(all ?? []), v],
    )
    .option('--encrypt-vault-id <label>', 'which --vault-id encrypts, when several are given')
    .option('--new-vault-password-file <file>', 'rekey: the new password (file or script)')
    .option('--new-vault-id <label@source>', 'rekey: the new password, and the new label if one is written')
    .option('-n, --name <key>', 'encrypt-string: the YAML key to print before the value')
    .option('--stdin-name <key>', 'encrypt-string: read the value from stdin and print it under this key')
    .addHelpText('after', VAULT_HELP)
    .action(async (action: VaultAction, file: string | undefined, opts: VaultCliOptions) => {
      const options: VaultOptions = {};
      if (opts.vaultPasswordFile !== undefined) options.passwordFile = opts.vaultPasswordFile;
      if (opts.vaultId !== undefined) options.vaultIds = opts.vaultId;
      if (opts.encryptVaultId !== undefined) options.encryptVaultId = opts.encryptVaultId;
      if (opts.newVaultPasswordFile !== undefined) options.newPasswordFile = opts.newVaultPasswordFile;
      if (opts.newVaultId !== undefined) options.newVaultId = opts.newVaultId;
      if (opts.name !== undefined) options.name = opts.name;
      if (opts.stdinName !== undefined) options.stdinName = opts.stdinName;
      setExit(await vaultCommand(action, file, options, io));
    });
}

const VAULT_HELP = `
Actions:
  encrypt         encrypt a plaintext file in place (refused if it is already encrypted)
  decrypt         decrypt in place: the file is then PLAINTEXT, do not commit it
  view            print the decrypted content to stdout
  edit            open the decrypted content in $VISUAL / $EDITOR (default vi), re-encrypt if changed
  create          write a new encrypted file with $VISUAL / $EDITOR
  rekey           encrypt the file again with a new password (--new-vault-password-file, --new-vault-id,
                  or typed twice on a terminal); the file keeps its vault ID
  encrypt-string  print one value encrypted as a "!vault |" block to paste into YAML (also: encrypt_string);
                  the value is the argument, else typed (hidden) on a terminal, else all of stdin

Passwords: each --vault-id label@source (a file, a script, or "prompt"), then --vault-password-file
(label "default"); with neither, $KANKA_VAULT_PASSWORD_FILE, then $KANKA_VAULT_PASSWORD.
A file whose vault ID (1.2 header) matches a label is tried with that password first.
An executable password file is run, as ansible-vault does, and its output is the password;
a script named *-client gets "--vault-id <label>".

Examples:
  KANKA_VAULT_PASSWORD_FILE=~/.kanka-vault kanka-infra vault edit inventory/prod.secrets.yml
  kanka-infra vault view inventory/prod.secrets.yml --vault-id prod@~/.kanka-vault-prod
  kanka-infra vault rekey inventory/prod.secrets.yml --vault-id prod@old.pw --new-vault-password-file new.pw
  kanka-infra vault encrypt-string --vault-id prod@prompt --name db_password

Files are in the ansible-vault 1.1 AES256 format (1.2 with a vault ID): ansible-vault reads what
this writes and vice versa.`;

function readInput(path: string, shown: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError([{ file: shown, message: `cannot read the file: ${describeFsError(err)}` }]);
  }
}

/** Vault files are written atomically and 0600 (a decrypted one is plaintext secrets: never wider). */
function writeVault(target: string, content: string | Uint8Array, exclusive = false): void {
  try {
    writeAtomic(target, content, { forceMode: 0o600, exclusive });
  } catch (err) {
    if (exclusive && (err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new UsageError(`${target} appeared while the editor was open; nothing was written`);
    throw err;
  }
}

/**
 * Puts `plaintext` in a 0600 file inside a fresh 0700 temporary directory, runs the editor on it,
 * checks the result is a YAML mapping and hands it to `save`. The file (and anything the editor left
 * beside it, such as swap files) is overwritten with zeros and removed in every case.
 */
function editInTempFile(
  plaintext: Buffer,
  path: string,
  shown: string,
  env: NodeJS.ProcessEnv,
  io: Io,
  save: (edited: Buffer) => ExitCode,
): ExitCode {
  const dir = mkdtempSync(join(tmpdir(), 'kanka-vault-'));
  const tmp = join(dir, basename(path).replace(/^\.+/, '') || 'secrets.yml');
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, plaintext);
    } finally {
      closeSync(fd);
    }
    const editor = env['VISUAL'] || env['EDITOR'] || 'vi';
    // Through the shell so that EDITOR="code --wait" works; the file name is passed as $1, never
    // spliced into the command line.
    const r = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'kanka-vault-editor', tmp], { stdio: 'inherit', env });
    if (r.error || r.status !== 0) {
      const why = r.error
        ? r.error.message
        : r.signal
          ? `was killed by ${r.signal}`
          : `exited with status ${r.status ?? '?'}`;
      write(io.stderr, `error: the editor (${editor}) ${why}; ${shown} was not changed`);
      return EXIT.INVALID;
    }
    let edited: Buffer;
    try {
      edited = readFileSync(tmp);
    } catch (err) {
      write(io.stderr, `error: cannot read the edited file back (${describeFsError(err)}); ${shown} was not changed`);
      return EXIT.INVALID;
    }
    // Blank before and after (create, then quit the editor): nothing to validate, `save` decides.
    const problem = isBlank(edited) && isBlank(plaintext) ? undefined : yamlMappingProblem(edited);
    if (problem !== undefined) {
      write(io.stderr, `error: the edited content ${problem}; ${shown} was NOT changed and your edits were discarded`);
      return EXIT.INVALID;
    }
    return save(edited);
  } finally {
    shredDir(dir);
  }
}

function isBlank(b: Buffer): boolean {
  return b.toString('utf8').trim() === '';
}

/** Why the content is not a YAML mapping, or undefined if it is. Never quotes the content. */
function yamlMappingProblem(content: Buffer): string | undefined {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    return 'is not UTF-8 text';
  }
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const line = text.slice(0, first.pos[0]).split('\n').length;
    return `is not valid YAML (${first.code} at line ${line})`;
  }
  const root = doc.contents;
  if (isMap(root)) return undefined;
  if (root === null || (isScalar(root) && root.value === null))
    return 'is empty, not a YAML mapping of names to values';
  return 'is not a YAML mapping of names to values';
}

function shredDir(dir: string): void {
  try {
    for (const name of readdirSync(dir)) shredFile(join(dir, name));
  } catch {
    // the directory is removed below whatever happened
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Best effort: overwrite with zeros (and sync) before unlinking, so the plaintext is not left on disk. */
function shredFile(file: string): void {
  try {
    const st = statSync(file);
    if (!st.isFile()) return;
    const fd = openSync(file, 'r+');
    try {
      const zeros = Buffer.alloc(Math.min(st.size, 1 << 20));
      for (let off = 0; off < st.size; off += zeros.length)
        writeSync(fd, zeros, 0, Math.min(zeros.length, st.size - off), off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    unlinkSync(file);
  } catch {
    // rmSync of the directory removes it anyway
  }
}
