/**
 * The one quoting function: every value that reaches a remote shell goes through here (the `sh`
 * template of command.ts calls it for each interpolation). POSIX single quotes keep everything
 * literal; an embedded quote becomes '\'' .
 */
export function shq(value: string): string {
  if (value === '') return "''";
  // Plain words need no quotes; keeping them bare makes scripts easier to read in --verbose.
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
