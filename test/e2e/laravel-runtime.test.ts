import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpsGet, type HttpResult, waitFor } from './http.js';
import { convergeSite, fleetOrSkip, inventoryVariant, kanka, repoRoot, hostShell } from './support.js';

const { fleet, reason } = fleetOrSkip();
const addr = (name: string) => fleet?.hosts.find((h) => h.name === name)?.address ?? '';
const frontends = ['frontend1', 'frontend2'];
const backends = ['backend1', 'backend2'];
const role = join(repoRoot, 'roles', 'nginx-php');
const defaults = readFileSync(join(role, 'defaults.yml'), 'utf8');
const UPLOAD_MAX_MB = Number(/^upload_max_mb: (\d+)$/m.exec(defaults)?.[1]);
const APP = /^app_root: (.+)$/m.exec(defaults)?.[1] ?? '';
const PHP = /^php_version: "(.+)"$/m.exec(defaults)?.[1] ?? '';
const MB = 1024 * 1024;

const { sh, must } = hostShell(fleet);

/** Writes a file on a host (any content: it travels base64-encoded inside the command). */
async function put(host: string, path: string, content: string, mode = '0644'): Promise<void> {
  await must(host, `echo ${Buffer.from(content).toString('base64')} | base64 -d > ${path} && chmod ${mode} ${path}`);
}

/**
 * A POST to a frontend. `chunked`: no Content-Length, the body in 1 MB chunks. A server may answer
 * (413) before the body is all sent: that answer is the result, the broken write after it is not.
 */
function httpsPost(
  address: string,
  path: string,
  body: Buffer,
  headers: Record<string, string>,
  chunked = false,
  pauseHalfwayMs = 0,
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(
      {
        host: address,
        port: 443,
        path,
        method: 'POST',
        rejectUnauthorized: false,
        agent: false,
        timeout: 60000,
        servername: 'kanka.test',
        headers: chunked ? headers : { ...headers, 'content-length': String(body.length) },
      },
      (res) => {
        answered = true;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) h[k] = Array.isArray(v) ? v.join(', ') : String(v ?? '');
          resolve({ status: res.statusCode ?? 0, headers: h, body: text });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout after 60 s')));
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    if (pauseHalfwayMs > 0) {
      // A client that stops sending for a while in the middle of its body (a phone changing networks).
      req.write(body.subarray(0, body.length / 2));
      setTimeout(() => req.end(body.subarray(body.length / 2)), pauseHalfwayMs);
    } else if (!chunked) req.end(body);
    else {
      for (let i = 0; i < body.length; i += MB) req.write(body.subarray(i, i + MB));
      req.end();
    }
  });
}

function multipart(field: string, data: Buffer): { body: Buffer; type: string } {
  const boundary = `e2e${randomBytes(12).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="image.png"\r\nContent-Type: image/png\r\n\r\n`,
  );
  return {
    body: Buffer.concat([head, data, Buffer.from(`\r\n--${boundary}--\r\n`)]),
    type: `multipart/form-data; boundary=${boundary}`,
  };
}

// The test app: a front controller that reports what php received, and an artisan that records
// the scheduler's runs and works as a queue worker that waits for jobs.
const INDEX = `<?php
// The e2e test app's front controller (Laravel's public/index.php stands here in production).
header('Cache-Control: no-store');
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($path === '/e2e-upload') {
    $files = [];
    foreach ($_FILES as $name => $f) {
        $files[$name] = ['size' => $f['size'], 'error' => $f['error'], 'sha1' => $f['error'] === 0 ? sha1_file($f['tmp_name']) : null];
    }
    header('Content-Type: application/json');
    echo json_encode(['files' => $files, 'post_max_size' => ini_get('post_max_size'), 'upload_max_filesize' => ini_get('upload_max_filesize'), 'memory_limit' => ini_get('memory_limit'), 'opcache' => (bool) ini_get('opcache.enable')]);
    exit;
}
if ($path === '/e2e-slow') {
    usleep(9000000);
    echo "slow\\n";
    exit;
}
echo 'route ', $path, "\\n";
`;
const ARTISAN = `<?php
// Stand-in for Kanka's artisan (e2e).
$command = $argv[1] ?? '';
if ($command === 'schedule:run') {
    file_put_contents(__DIR__ . '/storage/e2e-schedule.log', gethostname() . ' ' . time() . "\\n", FILE_APPEND);
    exit(0);
}
if ($command === 'queue:work') {
    while (true) {
        sleep(60);
    }
}
exit(1);
`;

const worker = (n: number) => `kanka-queue@${n}.service`;
const mainPid = async (host: string, n: number) =>
  (await must(host, `systemctl show -p MainPID --value ${worker(n)}`)).trim();
const isActive = async (host: string, n: number) => (await sh(host, `systemctl is-active ${worker(n)}`)).out.trim();
const isEnabled = async (host: string, unit: string) => (await sh(host, `systemctl is-enabled ${unit}`)).out.trim();

describe.skipIf(!fleet)(`Kanka's Laravel runtime on the local fleet${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const inventory = fleet?.inventoryFile ?? '';
  let appPlacedAt = 0;

  beforeAll(async () => {
    if (!fleet) return;
    expect(UPLOAD_MAX_MB).toBeGreaterThanOrEqual(21);
    await convergeSite(inventory);
    for (const b of backends) {
      await must(b, `rm -rf ${APP}/storage && install -d -o www-data -g www-data ${APP}/storage`);
      await put(b, `${APP}/public/index.php`, INDEX);
      await put(b, `${APP}/artisan`, ARTISAN);
      // Truncated in place (php-fpm keeps it open): what the slow-log check finds is this run's.
      await must(b, `: > /var/log/php${PHP}-fpm-kanka.slow.log`);
    }
    appPlacedAt = Date.now();
  }, 600000);

  afterAll(async () => {
    if (!fleet) return;
    // Back to an undeployed app: the placeholder page, no artisan, no workers left running (nor the
    // third one the host-var step enables, should that test stop half-way).
    const placeholder = readFileSync(join(role, 'files', 'index.php'), 'utf8');
    for (const b of backends) {
      await sh(
        b,
        `rm -rf ${APP}/artisan ${APP}/storage ${APP}/public/x.php ${APP}/public/e2e-static.txt; systemctl stop 'kanka-queue@*.service'; systemctl disable -q kanka-queue@3.service; systemctl reset-failed 'kanka-queue@*.service' 'kanka-schedule.service'`,
      );
      await put(b, `${APP}/public/index.php`, placeholder);
    }
  }, 120000);

  it(`a 20 MB upload through each frontend reaches php whole; a body over ${UPLOAD_MAX_MB} MB is refused with 413`, async () => {
    const image = randomBytes(20 * MB);
    const sha1 = createHash('sha1').update(image).digest('hex');
    for (const f of frontends) {
      const { body, type } = multipart('image', image);
      const r = await httpsPost(addr(f), '/e2e-upload', body, { 'content-type': type });
      expect(r.status, r.body.slice(0, 500)).toBe(200);
      const got = JSON.parse(r.body) as {
        files: Record<string, { size: number; error: number; sha1: string }>;
        post_max_size: string;
        upload_max_filesize: string;
        memory_limit: string;
        opcache: boolean;
      };
      expect(got.files.image).toEqual({ size: 20 * MB, error: 0, sha1 });
      // php-fpm runs with the role's php.ini.
      expect(got).toMatchObject({
        post_max_size: `${UPLOAD_MAX_MB}M`,
        upload_max_filesize: `${UPLOAD_MAX_MB}M`,
        memory_limit: '256M',
        opcache: true,
      });
    }
    // An upload that pauses 8 s halfway still arrives whole (varnish's default timeout_idle, 5 s, cut it: 503).
    const { body: paused, type: pausedType } = multipart('image', image);
    const slow = await httpsPost(addr('frontend1'), '/e2e-upload', paused, { 'content-type': pausedType }, false, 8000);
    expect(slow.status, slow.body.slice(0, 300)).toBe(200);
    expect((JSON.parse(slow.body) as { files: Record<string, { sha1: string }> }).files.image?.sha1).toBe(sha1);
    const tooBig = randomBytes(UPLOAD_MAX_MB * MB + 1);
    for (const f of frontends) {
      // With a Content-Length (browsers' uploads), and chunked (nginx counts as it reads).
      const declared = await httpsPost(addr(f), '/e2e-upload', tooBig, { 'content-type': 'application/octet-stream' });
      expect(declared.status, declared.body.slice(0, 300)).toBe(413);
      const chunked = await httpsPost(
        addr(f),
        '/e2e-upload',
        tooBig,
        { 'content-type': 'application/octet-stream' },
        true,
      );
      expect(chunked.status, chunked.body.slice(0, 300)).toBe(413);
    }
    // Laravel routes still reach the front controller.
    const route = await httpsGet(addr('frontend1'), '/campaign/42/characters?page=2');
    expect(route.status).toBe(200);
    expect(route.body).toBe('route /campaign/42/characters\n');
  }, 180000);

  it('a .php file placed in public/ is neither executed nor shown; static files are served', async () => {
    const token = `e2e-${Date.now()}`;
    for (const b of backends) {
      await put(b, `${APP}/public/x.php`, `<?php echo 'executed-' . (6 * 7); // SOURCE-${token}\n`);
      await put(b, `${APP}/public/e2e-static.txt`, `static ${token}\n`);
    }
    for (const f of frontends) {
      for (const path of [`/x.php?${token}`, `/x.php/extra?${token}`, `/X.PHP?${token}`]) {
        const r = await httpsGet(addr(f), path);
        expect(r.status, `${f} ${path}`).toBe(404);
        expect(r.body).not.toContain('executed-42');
        expect(r.body).not.toContain(`SOURCE-${token}`);
      }
      // healthz.php runs only as /healthz.
      expect((await httpsGet(addr(f), '/healthz.php')).status).toBe(404);
      expect((await httpsGet(addr(f), '/healthz')).status).toBe(200);
      const stat = await httpsGet(addr(f), `/e2e-static.txt?${token}`);
      expect(stat.status).toBe(200);
      expect(stat.body).toBe(`static ${token}\n`);
    }
    // Directly on a backend too (not only what varnish passes on).
    expect(await must('backend1', 'curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1/x.php')).toBe('404');
  });

  it('php-fpm: a slow request is written to the slow log; the status page answers on the backend itself, not through a frontend or from another host', async () => {
    // Longer than php_fpm_slowlog_timeout (5 s) by more than php-fpm's check interval (it looks for
    // slow requests every third of the timeout): its stack lands in the pool's slow log.
    expect(await must('backend1', 'curl -s -m 30 http://127.0.0.1/e2e-slow')).toBe('slow\n');
    expect(await must('backend1', `cat /var/log/php${PHP}-fpm-kanka.slow.log`)).toContain(
      `usleep() ${APP}/public/index.php`,
    );
    expect(await must('backend1', 'curl -s http://127.0.0.1/fpm-status')).toMatch(/^slow requests:\s+[1-9]/m);
    for (const b of backends) {
      const page = await must(b, 'curl -s -w "\\n%{http_code}" http://127.0.0.1/fpm-status');
      expect(page).toMatch(/^pool:\s+kanka$/m);
      expect(page).toMatch(/^max children reached:/m);
      expect(page.trim().endsWith('200')).toBe(true);
      expect(await must('frontend1', `curl -s -o /dev/null -w "%{http_code}" http://${addr(b)}/fpm-status`)).toBe(
        '403',
      );
    }
    for (const f of frontends) {
      const r = await httpsGet(addr(f), '/fpm-status');
      expect(r.status).toBe(403);
      expect(r.body).not.toContain('pool:');
    }
  });

  it('queue workers: started once the app exists, restarted by systemd when killed, restarted when .env changes, count per host', async () => {
    // The first apply after the app is deployed starts the workers; the one after changes nothing.
    const deploy = await kanka(['apply', inventory, '--yes']);
    expect(deploy.code, deploy.stdout.slice(-3000)).toBe(0);
    expect(deploy.stdout).toMatch(/systemctl start '?kanka-queue@1\.service/);
    for (const b of backends) {
      for (const n of [1, 2]) {
        expect(await isActive(b, n)).toBe('active');
        expect(await isEnabled(b, worker(n))).toBe('enabled');
      }
      expect(await must(b, `ps -o user=,args= -p ${await mainPid(b, 1)}`)).toMatch(
        /^www-data .*artisan queue:work --sleep=3/,
      );
    }
    // The apply above put the placeholder index.php back: the test app again.
    for (const b of backends) await put(b, `${APP}/public/index.php`, INDEX);

    const killed = await mainPid('backend1', 1);
    await must('backend1', `kill -9 ${killed}`);
    await waitFor(
      'kanka-queue@1 restarted by systemd',
      async () => (await isActive('backend1', 1)) === 'active' && !['0', killed].includes(await mainPid('backend1', 1)),
      30000,
    );

    // Another .env (app_url), and three workers on backend2 (a host variable).
    const before = new Map<string, string>();
    for (const b of backends) for (const n of [1, 2]) before.set(`${b}/${n}`, await mainPid(b, n));
    const variant = inventoryVariant(fleet!, {
      extraVars: { app_url: 'https://kanka-e2e.test' },
      hostVars: { backend2: { laravel_queue_workers: '3' } },
    });
    const changed = await kanka(['apply', variant, '--yes']);
    expect(changed.code, changed.stdout.slice(-3000)).toBe(0);
    for (const b of backends) {
      for (const n of [1, 2]) {
        expect(await isActive(b, n)).toBe('active');
        expect(await mainPid(b, n), `${b} worker ${n} restarted after .env changed`).not.toBe(before.get(`${b}/${n}`));
      }
    }
    expect(await isActive('backend2', 3)).toBe('active');
    expect(await isEnabled('backend2', worker(3))).toBe('enabled');
    expect(await isActive('backend1', 3)).not.toBe('active');

    // Back to the fleet's inventory: two workers again, the third stopped and disabled.
    const back = await kanka(['apply', inventory, '--yes']);
    expect(back.code, back.stdout.slice(-3000)).toBe(0);
    expect(back.stdout).toMatch(/> run +\/usr\/local\/lib\/kanka-infra\/kanka-queue-trim '?2'? /);
    expect(await isActive('backend2', 3)).not.toBe('active');
    expect(await isEnabled('backend2', worker(3))).toBe('disabled');
    expect(await isActive('backend2', 2)).toBe('active');
  }, 300000);

  it('the scheduler runs artisan schedule:run once a minute on exactly one backend (the MariaDB primary)', async () => {
    // Two full minutes since artisan appeared (the other tests took part of it).
    const wait = appPlacedAt + 125000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const runs = (await must('backend1', `cat ${APP}/storage/e2e-schedule.log`)).trim().split('\n');
    const minutes = runs.map((l) => Math.floor(Number(l.split(' ')[1]) / 60));
    expect(
      runs.every((l) => l.startsWith('backend1 ')),
      runs.join('\n'),
    ).toBe(true);
    expect(runs.length, runs.join('\n')).toBeGreaterThanOrEqual(2);
    // Once per minute: one run in each minute, consecutive minutes.
    expect(new Set(minutes).size).toBe(runs.length);
    expect(Math.max(...minutes) - Math.min(...minutes)).toBe(runs.length - 1);
    expect(runs.length).toBeLessThanOrEqual(Math.ceil((Date.now() - appPlacedAt) / 60000) + 1);
    expect((await sh('backend2', `test -e ${APP}/storage/e2e-schedule.log`)).code).toBe(1);
    expect(await isEnabled('backend1', 'kanka-schedule.timer')).toBe('enabled');
    expect(await isEnabled('backend2', 'kanka-schedule.timer')).toBe('disabled');
    expect((await sh('backend2', 'systemctl is-active kanka-schedule.timer')).out.trim()).toBe('inactive');
    // The runs were systemd's, as www-data.
    expect(await must('backend1', `stat -c %U ${APP}/storage/e2e-schedule.log`)).toBe('www-data\n');
  }, 200000);

  it('after apply, plan of the site changes nothing', async () => {
    const plan = await kanka(['plan', inventory]);
    expect(plan.code, plan.stdout.slice(-3000)).toBe(0);
  });
});
