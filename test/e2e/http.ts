import { request } from 'node:https';

export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One HTTPS request to a fleet frontend (self-signed certificate), on a fresh connection. */
export function httpsGet(address: string, path: string, timeoutMs = 5000): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: address,
        port: 443,
        path,
        method: 'GET',
        rejectUnauthorized: false,
        agent: false,
        timeout: timeoutMs,
        servername: 'kanka.test',
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers))
            headers[k] = Array.isArray(v) ? v.join(', ') : String(v ?? '');
          resolve({ status: res.statusCode ?? 0, headers, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * A client that keeps sending requests (bounded: at most `maxRequests`, one at a time per
 * target) until stopped, and counts what failed. For "zero failed requests while ..." tests.
 */
export function keepRequesting(
  targets: string[],
  path: string,
  maxRequests = 5000,
): { stop: () => Promise<{ ok: number; failed: string[] }> } {
  let running = true;
  let ok = 0;
  const failed: string[] = [];
  const loops = targets.map(async (address) => {
    let n = 0;
    while (running && n < maxRequests) {
      n++;
      try {
        const r = await httpsGet(address, path);
        if (r.status === 200) ok++;
        else failed.push(`${address}: HTTP ${r.status} ${r.body.slice(0, 120)}`);
      } catch (err) {
        failed.push(`${address}: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return { ok, failed };
    },
  };
}

/** Polls until `fn` returns true (or throws after `timeoutMs`). */
export async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = 30000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      if (await fn()) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
