/** A problem with the user's input: where it is, what is wrong, and what would fix it. */
export interface Diagnostic {
  file: string;
  /** Key path inside the file, e.g. ["hosts", "backend1", "port"]. */
  path?: ReadonlyArray<string | number>;
  line?: number;
  column?: number;
  message: string;
  hint?: string;
}

/** The `line` of a Diagnostic from where a thing was read, or nothing when that is not known. */
export function lineOf(source: { line?: number | undefined }): { line?: number } {
  return source.line !== undefined ? { line: source.line } : {};
}

/** Thrown (and caught by the CLI) when input is invalid; carries every problem found, not just the first. */
export class ConfigError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'ConfigError';
    this.diagnostics = diagnostics;
  }
}

export function formatKeyPath(path: ReadonlyArray<string | number> | undefined): string {
  if (!path || path.length === 0) return '';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = [
    d.file,
    d.line !== undefined ? String(d.line) : undefined,
    d.column !== undefined ? String(d.column) : undefined,
  ]
    .filter((x) => x !== undefined)
    .join(':');
  const key = formatKeyPath(d.path);
  const head = `${where}${key ? `: ${key}` : ''}: ${d.message}`;
  return d.hint ? `${head}\n  hint: ${d.hint}` : head;
}

/** Why a file could not be read, in words ("file not found", "permission denied"...). */
export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EISDIR') return 'is a directory, not a file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ELOOP') return 'a loop of symbolic links';
  if (code === 'ENOTDIR') return 'a part of the path is a file, not a directory';
  return err instanceof Error ? err.message : String(err);
}
