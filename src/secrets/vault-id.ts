import { UsageError } from '../diagnostics/usage-error.js';
import { parseVaultEnvelope, VaultError } from './vault-format.js';

/** The label of a password given without one (ansible-vault's too): files get the 1.1 header. */
export const DEFAULT_VAULT_ID = 'default';

/** What `--vault-id label@source` names: a password file or script, or "prompt" (asked on a terminal). */
export interface VaultIdSpec {
  label: string;
  /** A path, or undefined for a prompt. */
  file?: string;
  /** The option as written, for messages. */
  text: string;
}

/** A vault password and the label it is known by. */
export interface VaultSecret {
  label: string;
  password: string;
}

// Ansible's two spellings of "ask on the terminal".
const PROMPT_SOURCES = new Set(['prompt', 'prompt_ask_vault_pass']);

/**
 * Parses `--vault-id` the way ansible does: "label@source" (split at the first @), or just
 * "source" for the default label; the source "prompt" asks on the terminal.
 */
export function parseVaultId(text: string): VaultIdSpec {
  const at = text.indexOf('@');
  const label = at < 0 ? DEFAULT_VAULT_ID : text.slice(0, at);
  const source = at < 0 ? text : text.slice(at + 1);
  const problem = vaultIdLabelProblem(label);
  if (problem) throw new UsageError(`--vault-id ${text}: ${problem}`);
  if (source === '')
    throw new UsageError(`--vault-id ${text}: no password source after the @ (a file, a script or "prompt")`);
  return PROMPT_SOURCES.has(source) ? { label, text } : { label, file: source, text };
}

/** Why a label cannot go into a `$ANSIBLE_VAULT;1.2;AES256;<label>` header, or undefined. */
export function vaultIdLabelProblem(label: string): string | undefined {
  if (label === '') return 'the vault ID label is empty (write label@source)';
  if (/[;\s]/.test(label)) return `the vault ID label "${label}" contains a ";" or a space (not allowed in the header)`;
  return undefined;
}

/** The label in a 1.2 header, or undefined (1.1 header, or not vault text at all). */
export function vaultIdOf(data: string | Uint8Array, file: string): string | undefined {
  try {
    return parseVaultEnvelope(data, file).vaultId;
  } catch (err) {
    if (err instanceof VaultError) return undefined;
    throw err;
  }
}

/**
 * The order in which to try passwords on a file labelled `fileLabel`: those with that label first,
 * then the others in the order given (what ansible does unless vault_id_match is set).
 */
export function tryOrder(secrets: readonly VaultSecret[], fileLabel: string | undefined): VaultSecret[] {
  if (fileLabel === undefined) return [...secrets];
  return [...secrets.filter((s) => s.label === fileLabel), ...secrets.filter((s) => s.label !== fileLabel)];
}
