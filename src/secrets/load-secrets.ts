import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { ConfigError, describeFsError, type Diagnostic } from '../diagnostics/diagnostic.js';
import { Redactor } from './redact.js';
import { Secret } from './secret.js';
import { readPasswordSource } from './password-source.js';
import { decryptVault, parseVaultEnvelope, VaultError } from './vault-format.js';
import { DEFAULT_VAULT_ID, tryOrder, type VaultSecret } from './vault-id.js';

/** Secret values by name; nested mappings in the vault stay nested. */
export interface SecretValues {
  readonly [name: string]: Secret | SecretValues;
}

export interface LoadedSecrets {
  values: SecretValues;
  /** Masks every loaded value (of at least 4 characters) in any text. */
  redactor: Redactor;
}

export const PASSWORD_HINT =
  'set KANKA_VAULT_PASSWORD or KANKA_VAULT_PASSWORD_FILE, or pass --vault-password-file <file>';

/**
 * Decrypts an ansible-vault file whose content is a YAML mapping of names to values, and returns
 * them as `Secret`s plus a `Redactor` for all of them. Numbers and booleans become strings; nested
 * mappings become nested objects; lists and nulls are rejected (with the key path, never the value).
 */
export function loadSecrets(file: string, password: string | readonly VaultSecret[]): LoadedSecrets {
  const data = readVaultFile(file);
  const plaintext = decryptOrThrow(data, password, file);
  const values = parseSecretsYaml(plaintext, file);
  return { values, redactor: new Redactor(allSecrets(values)) };
}

/** Decrypts vault data, turning format and password problems into a `ConfigError` with a hint. */
export function decryptOrThrow(
  data: string | Uint8Array,
  password: string | readonly VaultSecret[],
  file: string,
): Buffer {
  const secrets = typeof password === 'string' ? [{ label: DEFAULT_VAULT_ID, password }] : password;
  return decryptWithSecrets(data, secrets, file).plaintext;
}

/**
 * Tries the passwords on vault data, those whose label matches the file's vault ID first (as
 * ansible-vault does), and says which one opened it. None: a `ConfigError` naming the labels tried.
 */
export function decryptWithSecrets(
  data: string | Uint8Array,
  secrets: readonly VaultSecret[],
  file: string,
): { plaintext: Buffer; secret: VaultSecret } {
  try {
    const { vaultId } = parseVaultEnvelope(data, file);
    for (const secret of tryOrder(secrets, vaultId)) {
      try {
        return { plaintext: decryptVault(data, secret.password, file), secret };
      } catch (err) {
        if (!(err instanceof VaultError && err.kind === 'wrong-password')) throw err;
      }
    }
    const labels = [...new Set(secrets.map((s) => s.label))].join(', ');
    const tried = secrets.length > 1 ? ` (tried ${secrets.length} passwords, vault IDs: ${labels})` : '';
    throw new VaultError(file, 'wrong-password', `wrong vault password (HMAC mismatch)${tried}`);
  } catch (err) {
    if (err instanceof VaultError) throw vaultErrorToConfig(err);
    throw err;
  }
}

export function vaultErrorToConfig(err: VaultError): ConfigError {
  const hint =
    err.kind === 'wrong-password'
      ? 'the file was encrypted with another password: check KANKA_VAULT_PASSWORD, KANKA_VAULT_PASSWORD_FILE, --vault-password-file or --vault-id'
      : err.kind === 'not-a-vault'
        ? 'encrypt it with `kanka-infra vault encrypt <file>`'
        : undefined;
  const d: Diagnostic = { file: err.file, message: err.reason };
  if (hint) d.hint = hint;
  return new ConfigError([d]);
}

/**
 * Parses decrypted vault content: it must be a YAML mapping. Error messages give the line, column
 * and key path, never a value or a snippet of the content (it is secret).
 */
export function parseSecretsYaml(plaintext: Uint8Array, file: string): SecretValues {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(plaintext);
  } catch {
    throw new ConfigError([
      {
        file,
        message: 'the decrypted content is not UTF-8 text',
        hint: 'a secrets vault must contain a YAML mapping of names to values',
      },
    ]);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        // e.message can quote the source; the code alone says what is wrong without leaking anything.
        return {
          file,
          line: pos.line,
          column: pos.col,
          message: `YAML syntax error in the decrypted content (${e.code})`,
        };
      }),
    );
  }
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === undefined))) return {};
  const diagnostics: Diagnostic[] = [];
  const where = (node: Node | null | undefined) => {
    const offset = node?.range?.[0];
    if (offset === undefined) return {};
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  if (!isMap(root)) {
    throw new ConfigError([
      {
        file,
        ...where(root),
        message: 'the decrypted content must be a YAML mapping of names to values',
        hint: 'for example:\n    db_password: s3cret\n    mail:\n      api_key: k3y',
      },
    ]);
  }
  const convert = (map: Node, path: string[]): SecretValues => {
    const out = Object.create(null) as Record<string, Secret | SecretValues>;
    if (!isMap(map)) return out;
    for (const pair of map.items) {
      const keyNode = pair.key as Node | null;
      const rawKey: unknown = isScalar(keyNode) ? keyNode.value : undefined;
      if (typeof rawKey !== 'string' && typeof rawKey !== 'number') {
        diagnostics.push({ file, ...where(keyNode), path, message: 'secret names must be plain strings' });
        continue;
      }
      const key = String(rawKey);
      const keyPath = [...path, key];
      const valueNode = pair.value as Node | null;
      if (isMap(valueNode)) {
        out[key] = convert(valueNode, keyPath);
      } else if (
        isScalar(valueNode) &&
        (typeof valueNode.value === 'string' ||
          typeof valueNode.value === 'number' ||
          typeof valueNode.value === 'boolean' ||
          typeof valueNode.value === 'bigint')
      ) {
        out[key] = new Secret(typeof valueNode.value === 'string' ? valueNode.value : String(valueNode.value));
      } else if (isSeq(valueNode)) {
        diagnostics.push({
          file,
          ...where(valueNode),
          path: keyPath,
          message: 'lists are not supported in a secrets vault',
          hint: 'use a mapping of names to values',
        });
      } else {
        diagnostics.push({
          file,
          ...where(valueNode ?? keyNode),
          path: keyPath,
          message: 'a secret must have a value (a string or a number)',
        });
      }
    }
    return out;
  };
  const values = convert(root, []);
  if (diagnostics.length > 0) throw new ConfigError(diagnostics);
  return values;
}

/** Every Secret in the (nested) values. */
export function allSecrets(values: SecretValues, into: Secret[] = []): Secret[] {
  for (const v of Object.values(values)) {
    if (v instanceof Secret) into.push(v);
    else allSecrets(v, into);
  }
  return into;
}

function readVaultFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError([{ file, message: `cannot read the secrets vault: ${describeFsError(err)}` }]);
  }
}

/**
 * Finds the vault password, first match wins:
 *   1. the --vault-password-file option,
 *   2. the file named by KANKA_VAULT_PASSWORD_FILE,
 *   3. KANKA_VAULT_PASSWORD itself (used as is).
 * Returns undefined when none is set (the caller decides whether a password is needed).
 *
 * A password file is read as ansible-vault reads it (src/secrets/password-source.ts): surrounding
 * whitespace stripped, and an executable file is run and its output used, so the same file or
 * script works for both tools. `allowScript: false` refuses an executable one instead (a file the
 * project names, not the operator).
 */
export function resolveVaultPassword(opts: {
  passwordFile?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  allowScript?: boolean;
}): string | undefined {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const read = (shown: string, from: string) =>
    readPasswordSource({
      path: resolve(cwd, shown),
      shown,
      from,
      ...(opts.allowScript === false ? { allowScript: false } : {}),
    });
  if (opts.passwordFile !== undefined && opts.passwordFile !== '')
    return read(opts.passwordFile, '--vault-password-file');
  const envFile = env['KANKA_VAULT_PASSWORD_FILE'];
  if (envFile !== undefined && envFile !== '') return read(envFile, 'KANKA_VAULT_PASSWORD_FILE');
  const direct = env['KANKA_VAULT_PASSWORD'];
  if (direct !== undefined && direct !== '') return direct;
  return undefined;
}
