import { Secret } from './secret.js';

/**
 * A `!vault |` value written inside a project YAML file (as `ansible-vault encrypt_string` prints
 * it), not yet decrypted: the project is read before the password is known. Once it is, every one
 * is replaced by a `Secret` (openInlineVaults), so nothing past loading sees this class.
 */
export class InlineVault {
  constructor(
    /** The vault text ($ANSIBLE_VAULT header and hex lines). */
    readonly text: string,
    readonly file: string,
    readonly line: number | undefined,
  ) {}
}

/** Where an InlineVault sits, and how to put its Secret there instead. */
export interface InlineVaultSlot {
  vault: InlineVault;
  /** The variable name (the mapping key it is the value of). */
  key: string;
  replace(secret: Secret): void;
}

/** Every InlineVault in `root` (objects, arrays, Maps, at any depth), each with its slot. */
export function findInlineVaults(root: unknown): InlineVaultSlot[] {
  const seen = new WeakSet<object>();
  const found: InlineVaultSlot[] = [];
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== 'object' || value instanceof Secret || seen.has(value)) return;
    seen.add(value);
    if (value instanceof Map) {
      const map = value as Map<unknown, unknown>;
      for (const [k, v] of map) {
        if (v instanceof InlineVault) found.push({ vault: v, key: String(k), replace: (s) => map.set(k, s) });
        else visit(v);
      }
      return;
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const v = record[key];
      if (v instanceof InlineVault) found.push({ vault: v, key, replace: (s) => (record[key] = s) });
      else visit(v);
    }
  };
  visit(root);
  return found;
}
