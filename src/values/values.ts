import { isIP } from 'node:net';
import { z } from 'zod';
import { parseNetwork } from './cidr.js';

/**
 * Typed input values: what a value must look like where it lands in a command, a file line or a
 * connection, checked when the configuration is read (before any host is contacted). A problem is
 * a custom issue whose `params.hint` says what would fix it; zod-diagnostics shows it as "hint:".
 * Values from module arguments are not echoed in messages (they may be rendered from secrets).
 */

/** `editor`: JSON Schema keywords for editors (`kanka-infra schema`), which cannot run the check itself. */
function withHint<T extends z.ZodString>(
  schema: T,
  problem: (value: string) => string | undefined,
  hint: string,
  editor?: { pattern: string; maxLength?: number },
): T {
  const checked = schema.superRefine((value, ctx) => {
    const message = problem(value);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message, params: { hint }, input: value });
  });
  return editor ? checked.meta(editor) : checked;
}

/** Where `value` has a line break or a NUL byte, in words; undefined when it has none. */
export function lineBreakOrNul(value: string): string | undefined {
  const i = value.search(/[\n\r\0]/);
  if (i < 0) return undefined;
  return `${value[i] === '\0' ? 'a NUL byte' : 'a line break'} at character ${i + 1}`;
}

/** A value written as (part of) one line of a file: a line break would add a line there. */
export function singleLine(example: string): z.ZodString {
  return withHint(
    z.string(),
    (v) => {
      const bad = lineBreakOrNul(v);
      return bad ? `must be a single line, but it contains ${bad}` : undefined;
    },
    `it becomes one line of a file, where a line break would start another line (e.g. ${example})`,
  );
}

/** An absolute path on the host, without NUL or line breaks (they cannot be, or should not be, in a path). */
export const absolutePath = withHint(
  z.string(),
  (v) => {
    if (!v.startsWith('/')) return 'must be an absolute path (start with /)';
    const bad = lineBreakOrNul(v);
    return bad ? `must be a path on one line, but it contains ${bad}` : undefined;
  },
  'e.g. /etc/nginx/conf.d/kanka.conf: absolute, with no line breaks or NUL bytes',
  { pattern: '^/[^\\n\\r\\u0000]*$' },
);

/** POSIX/Debian user and group names (useradd's default NAME_REGEX, 32 characters at most). */
const ACCOUNT_NAME = /^[a-z_][a-z0-9_-]*[$]?$/;

export const accountName = withHint(
  z.string(),
  (v) => {
    if (v === '') return 'must be a user or group name, not empty';
    if (v.startsWith('-')) return 'must not start with "-" (a command would read it as an option)';
    if (v.length > 32) return `must be at most 32 characters long (it has ${v.length})`;
    return ACCOUNT_NAME.test(v) ? undefined : 'is not a valid user or group name';
  },
  'lower-case letters, digits, "_" and "-", starting with a letter or "_" (a final "$" is allowed), at most 32 characters, e.g. www-data',
  { pattern: ACCOUNT_NAME.source, maxLength: 32 },
);

const DNS_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** A DNS name: dot-separated labels of letters, digits and inner "-"; the last label is not all digits. */
export function isDnsName(v: string): boolean {
  const name = v.endsWith('.') ? v.slice(0, -1) : v;
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  // An all-digit last label is a mistyped IPv4 address (192.0.2.300), never a top-level domain.
  return labels.every((l) => DNS_LABEL.test(l)) && !/^\d+$/.test(labels[labels.length - 1] ?? '');
}

function describeChar(c: string): string {
  if (c === ' ') return 'a space';
  if (c === '\n' || c === '\r') return 'a line break';
  if (c === '\t') return 'a tab';
  if (c === '\0') return 'a NUL byte';
  return `"${c}"`;
}

/** One address a host is reached at: an IPv4 or IPv6 address, or a DNS name. */
export const hostAddress = withHint(
  z.string(),
  (v) => {
    if (isIP(v) !== 0 || isDnsName(v)) return undefined;
    const shown = JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
    const odd = /[^A-Za-z0-9.:%-]/.exec(v)?.[0];
    return `${shown} is not an IP address or a DNS name${odd ? `: it contains ${describeChar(odd)}` : ''}`;
  },
  'one address per host: an IPv4 address (192.0.2.12), an IPv6 address (2001:db8::12) or a DNS name (web1.example.org); no spaces, commas, slashes, ";" or line breaks',
);

/** An IP network in CIDR notation, or one address (it lands in a firewall rule). */
export const ipNetwork = z.string().superRefine((value, ctx) => {
  const parsed = parseNetwork(value);
  if (!parsed.ok) {
    ctx.addIssue({
      code: 'custom',
      message: parsed.problem,
      params: {
        hint:
          parsed.hint ??
          'an IPv4 or IPv6 network such as 192.0.2.0/24 or 2001:db8::/48, or one address such as 198.51.100.7',
      },
      input: value,
    });
  }
});

/** A word of an apt sources line (suite, component): no spaces, nothing that starts an option. */
export function aptWord(example: string): z.ZodString {
  return withHint(
    z.string(),
    (v) => {
      if (v === '') return 'must not be empty';
      if (v.startsWith('-') || v.startsWith('[')) return `must not start with "${v[0] ?? ''}"`;
      return /^[A-Za-z0-9._~+/-]+$/.test(v) ? undefined : 'must be one word of letters, digits and . _ ~ + / -';
    },
    `it is one word of the sources line (e.g. ${example}); give several components as a list`,
    { pattern: '^[A-Za-z0-9._~+/][A-Za-z0-9._~+/-]*$' },
  );
}

/** Shell written by a role author (run on the host as it is): anything but a NUL byte. */
export const roleShellText = withHint(
  z.string().min(1),
  (v) => (v.includes('\0') ? 'must not contain a NUL byte (a shell cannot run it)' : undefined),
  'remove the NUL byte',
);

/** For a value from the command line (no YAML file to point at): its first problem and the hint, in one line. */
export function problemWith(schema: z.ZodType, value: unknown): string | undefined {
  const r = schema.safeParse(value);
  if (r.success) return undefined;
  const issue = r.error.issues[0];
  const hint: unknown = issue?.code === 'custom' ? issue.params?.['hint'] : undefined;
  return `${issue?.message ?? 'invalid value'}${typeof hint === 'string' ? ` (${hint})` : ''}`;
}
