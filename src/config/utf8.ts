import { isUtf8 } from 'node:buffer';
import { ConfigError } from '../diagnostics/diagnostic.js';

const BOM = '\uFEFF';

/**
 * The file's text, or a ConfigError naming the file, the line and the byte offset of the first
 * byte that is not UTF-8 (decoding would silently turn it into U+FFFD). A UTF-8 BOM at the start
 * (some Windows editors add one) is dropped.
 */
export function decodeUtf8(bytes: Uint8Array, file: string, what = 'file'): string {
  if (!isUtf8(bytes)) {
    const offset = firstInvalidUtf8(bytes);
    const line = 1 + countNewlines(bytes, offset);
    const hint = looksLikeUtf16(bytes)
      ? 'it looks like UTF-16: save it as UTF-8'
      : "save it as UTF-8 (binary files belong in the role's files/ folder, deployed with copy: src:)";
    throw new ConfigError([
      {
        file,
        line,
        message: `${what} is not UTF-8 text: byte 0x${(bytes[offset] ?? 0).toString(16).padStart(2, '0')} at byte offset ${offset}`,
        hint,
      },
    ]);
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  return text.startsWith(BOM) ? text.slice(1) : text;
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence (bytes.length if none). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] ?? 0;
    let need: number;
    let min: number;
    if (b < 0x80) {
      i += 1;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8 either.
    if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return i;
    i += need + 1;
  }
  return bytes.length;
}

function countNewlines(bytes: Uint8Array, end: number): number {
  let n = 0;
  for (let i = 0; i < end; i++) if (bytes[i] === 0x0a) n++;
  return n;
}

function looksLikeUtf16(bytes: Uint8Array): boolean {
  const [a, b] = [bytes[0], bytes[1]];
  return (a === 0xff && b === 0xfe) || (a === 0xfe && b === 0xff) || (bytes.length >= 2 && (a === 0 || b === 0));
}
