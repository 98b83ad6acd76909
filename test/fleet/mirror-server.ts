/**
 * The fleet's apt mirror server: serves one directory read-only over HTTP on the bridge address.
 * Started detached by mirror.ts: `node --import tsx mirror-server.ts --dir DIR --bind ADDR --port PORT`.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { resolve, sep } from 'node:path';

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : undefined;
  if (value === undefined) {
    process.stderr.write(`mirror-server: missing --${name}\n`);
    process.exit(2);
  }
  return value;
}

const dir = resolve(arg('dir'));
const bind = arg('bind');
const port = Number(arg('port'));

const server = createServer((req, res) => {
  const method = req.method ?? 'GET';
  let status = 200;
  const done = (): void => {
    process.stdout.write(
      `${new Date().toISOString()} ${req.socket.remoteAddress ?? '-'} ${method} ${req.url ?? ''} ${status}\n`,
    );
  };
  if (method !== 'GET' && method !== 'HEAD') {
    status = 405;
    res.writeHead(status).end();
    done();
    return;
  }
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://mirror').pathname);
  } catch {
    status = 400;
    res.writeHead(status).end();
    done();
    return;
  }
  const file = resolve(dir, `.${pathname}`);
  let size = -1;
  let mtime = new Date(0);
  if (file.startsWith(dir + sep)) {
    try {
      const st = statSync(file);
      if (st.isFile()) {
        size = st.size;
        mtime = st.mtime;
      }
    } catch {
      // not found
    }
  }
  if (size < 0) {
    status = 404;
    res.writeHead(status, { 'Content-Type': 'text/plain' }).end('not found\n');
    done();
    return;
  }
  res.writeHead(status, {
    'Content-Type': 'application/octet-stream',
    'Content-Length': String(size),
    'Last-Modified': mtime.toUTCString(),
  });
  if (method === 'HEAD') {
    res.end();
    done();
    return;
  }
  const stream = createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
  res.on('finish', done);
});

server.on('error', (err) => {
  process.stderr.write(`mirror-server: ${err.message}\n`);
  process.exit(1);
});
server.listen(port, bind, () => {
  process.stdout.write(`mirror-server: serving ${dir} on http://${bind}:${port}/\n`);
});
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    server.close();
    process.exit(0);
  });
}
