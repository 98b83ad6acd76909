import { randomBytes } from 'node:crypto';

/**
 * The one quoting function: every value that reaches a remote shell goes through here.
 * POSIX single quotes keep everything literal; an embedded quote becomes '\'' .
 */
export function shq(value: string): string {
  if (value === '') return "''";
  // Plain words need no quotes; keeping them bare makes scripts easier to read in --verbose.
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Feeds `content` to a command's stdin through a quoted heredoc: the shell expands nothing in
 * it, and the delimiter carries a random nonce so the content cannot end it early. This is how
 * data (file bytes, SQL with passwords) reaches a command without being on any command line.
 */
export function heredoc(command: string, content: string, then = ''): string {
  const eof = `KANKA_EOF_${randomBytes(6).toString('hex')}`;
  // `then` continues the command line (e.g. "| other-command"): nothing may follow the delimiter.
  return `${command} <<'${eof}'${then ? ` ${then}` : ''}\n${content.endsWith('\n') ? content : `${content}\n`}${eof}`;
}
