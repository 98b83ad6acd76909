/**
 * Expands Ansible's host ranges: `web[01:03]` -> web01, web02, web03; `db-[a:c]`; `[1:10:2]` with a
 * stride. Leading zeros of the start keep the width, as in Ansible. Returns undefined for a malformed
 * range (the caller reports it).
 */
export function expandHostPattern(pattern: string): string[] | undefined {
  const m = /^(.*?)\[([^\]]*)\](.*)$/.exec(pattern);
  if (!m) return [pattern];
  const [, head = '', range = '', tail = ''] = m;
  const parts = range.split(':');
  if (parts.length < 2 || parts.length > 3) return undefined;
  const [from = '', to = '', stepText = '1'] = parts;
  const step = Number(stepText);
  if (!Number.isInteger(step) || step < 1) return undefined;
  const rest = expandHostPattern(tail);
  if (!rest) return undefined;
  const items: string[] = [];
  if (/^\d+$/.test(from) && /^\d+$/.test(to)) {
    const width = from.length;
    for (let i = Number(from); i <= Number(to); i += step) items.push(String(i).padStart(width, '0'));
  } else if (/^[a-z]$/i.test(from) && /^[a-z]$/i.test(to)) {
    for (let c = from.charCodeAt(0); c <= to.charCodeAt(0); c += step) items.push(String.fromCharCode(c));
  } else return undefined;
  if (items.length === 0) return undefined;
  return items.flatMap((i) => rest.map((r) => `${head}${i}${r}`));
}
