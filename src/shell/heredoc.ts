import { randomBytes } from 'node:crypto';
import { raw, sh, type ShellCommand } from './command.js';

/**
 * Feeds `content` to a command's stdin through a quoted heredoc: the shell expands nothing in
 * it, and the delimiter carries a random nonce so the content cannot end it early. This is how
 * data (file bytes, SQL with passwords) reaches a command without being on any command line.
 * `then` continues the command line (e.g. sh`| other-command`): nothing may follow the delimiter.
 */
export function heredoc(command: ShellCommand, content: string, then?: ShellCommand): ShellCommand {
  const eof = `KANKA_EOF_${randomBytes(6).toString('hex')}`;
  const body = content.endsWith('\n') ? content : `${content}\n`;
  // raw(): the body is data inside a quoted heredoc (never expanded); the delimiter is our own word.
  const delimited = raw(`${body}${eof}`);
  return then ? sh`${command} <<'${eof}' ${then}\n${delimited}` : sh`${command} <<'${eof}'\n${delimited}`;
}
