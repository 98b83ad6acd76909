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
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = [d.file, d.line !== undefined ? String(d.line) : undefined, d.column !== undefined ? String(d.column) : undefined]
    .filter((x) => x !== undefined)
    .join(':');
  const key = formatKeyPath(d.path);
  const head = `${where}${key ? `: ${key}` : ''}: ${d.message}`;
  return d.hint ? `${head}\n  hint: ${d.hint}` : head;
}

/** Collects diagnostics while loading several files, then throws them all at once. */
export class DiagnosticBag {
  readonly items: Diagnostic[] = [];
  add(d: Diagnostic): void {
    this.items.push(d);
  }
  addAll(ds: Iterable<Diagnostic>): void {
    for (const d of ds) this.items.push(d);
  }
  get empty(): boolean {
    return this.items.length === 0;
  }
  throwIfAny(): void {
    if (this.items.length > 0) throw new ConfigError(this.items);
  }
}
