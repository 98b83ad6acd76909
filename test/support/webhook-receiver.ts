import { createServer } from 'node:http';

/** A local webhook receiver on the loopback: the bodies it got, and how to stop it. */
export async function webhookReceiver(status = 204): Promise<{ url: string; bodies: string[]; close: () => void }> {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (d: Buffer) => (data += d.toString()));
    req.on('end', () => {
      bodies.push(data);
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  return {
    url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/hook`,
    bodies,
    close: () => server.close(),
  };
}
