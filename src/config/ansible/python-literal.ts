/**
 * Ansible reads INI values with Python's ast.literal_eval, keeping the text when that fails: `80` is
 * a number, `True` a boolean, `'80'` a string, `yes` stays the string "yes". This is the subset of
 * literal_eval an inventory uses; a list or dict literal is read as JSON when it is JSON, else kept
 * as text (`literal: false`, so the importer reports it).
 */
export function pythonLiteral(text: string): { value: unknown; literal: boolean } {
  const t = text.trim();
  if (/^[-+]?(0|[1-9](_?\d)*)$/.test(t)) return { value: Number(t.replace(/_/g, '')), literal: true };
  if (/^[-+]?0[xX][0-9a-fA-F]+$/.test(t)) return { value: Number.parseInt(t, 16), literal: true };
  if (/^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$/.test(t) && /[.eE]/.test(t))
    return { value: Number(t), literal: true };
  if (t === 'True') return { value: true, literal: true };
  if (t === 'False') return { value: false, literal: true };
  if (t === 'None') return { value: null, literal: true };
  const quoted = /^'((?:[^'\\]|\\.)*)'$|^"((?:[^"\\]|\\.)*)"$/.exec(t);
  if (quoted) return { value: unescape(quoted[1] ?? quoted[2] ?? ''), literal: true };
  // A Jinja2 expression is not a Python literal: literal_eval fails and Ansible keeps the text.
  if (/^[[{(]/.test(t) && !/^\{[{%]/.test(t)) {
    try {
      return { value: JSON.parse(t) as unknown, literal: true };
    } catch {
      return { value: text, literal: false };
    }
  }
  return { value: text, literal: true };
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r', '0': '\0' })[c] ?? c);
}
