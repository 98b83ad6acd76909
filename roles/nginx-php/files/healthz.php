<?php
// Health of this backend: MariaDB (the primary), the replica the app reads from, and Redis, each
// checked, each named when it fails.
header('Cache-Control: no-store');
header('Content-Type: application/json');
header('X-Backend: ' . gethostname());
// The app's .env (KEY="value" lines, # comments), as Laravel reads it.
$env = [];
foreach (file(__DIR__ . '/../.env', FILE_IGNORE_NEW_LINES) ?: [] as $line) {
    if (preg_match('/^([A-Z0-9_]+)="(.*)"$/', $line, $m)) {
        $env[$m[1]] = stripcslashes($m[2]);
    }
}
$checks = [];
try {
    $pdo = new PDO(
        sprintf('mysql:host=%s;port=%s;dbname=%s', $env['DB_HOST'] ?? '', $env['DB_PORT'] ?? '3306', $env['DB_DATABASE'] ?? ''),
        $env['DB_USERNAME'] ?? '', $env['DB_PASSWORD'] ?? '',
        [PDO::ATTR_TIMEOUT => 2, PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]
    );
    $pdo->query('SELECT 1');
    $checks['mariadb'] = 'ok';
} catch (Throwable $e) {
    $checks['mariadb'] = 'failed: ' . $e->getMessage();
}
// The app reads from this host's own MariaDB (DB_READ_HOST). A replica that stopped or lags would
// serve stale pages without an error: then this check fails, the frontends' probes take this
// backend out of rotation, and it comes back by itself once replication has caught up (or after
// `kanka-infra db reseed`). The primary (no replication) always passes.
try {
    $read = new PDO(
        sprintf('mysql:host=%s;port=%s', $env['DB_READ_HOST'] ?? '', $env['DB_PORT'] ?? '3306'),
        $env['DB_USERNAME'] ?? '', $env['DB_PASSWORD'] ?? '',
        [PDO::ATTR_TIMEOUT => 2, PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]
    );
    $row = $read->query('SHOW SLAVE STATUS')->fetch(PDO::FETCH_ASSOC);
    $maxLag = (int)($env['KANKA_READ_MAX_LAG_SECONDS'] ?? 30);
    if (!$row) {
        $checks['replica'] = 'ok';
    } elseif ($row['Slave_SQL_Running'] !== 'Yes' || $row['Slave_IO_Running'] !== 'Yes') {
        $checks['replica'] = sprintf('failed: replication stopped (IO %s, SQL %s): %s', $row['Slave_IO_Running'], $row['Slave_SQL_Running'], $row['Last_SQL_Error'] ?: $row['Last_IO_Error']);
    } elseif ($row['Seconds_Behind_Master'] === null || (int)$row['Seconds_Behind_Master'] > $maxLag) {
        $checks['replica'] = sprintf('failed: %s s behind the primary (limit %d s)', $row['Seconds_Behind_Master'] ?? 'unknown', $maxLag);
    } else {
        $checks['replica'] = 'ok';
    }
} catch (Throwable $e) {
    $checks['replica'] = 'failed: ' . $e->getMessage();
}
try {
    $redis = new Redis();
    $redis->connect($env['REDIS_HOST'] ?? '127.0.0.1', (int)($env['REDIS_PORT'] ?? 6379), 2.0);
    $redis->auth($env['REDIS_PASSWORD'] ?? '');
    $redis->ping();
    $checks['redis'] = 'ok';
} catch (Throwable $e) {
    $checks['redis'] = 'failed: ' . $e->getMessage();
}
$failed = array_keys(array_filter($checks, fn ($v) => $v !== 'ok'));
http_response_code($failed ? 503 : 200);
echo json_encode(['status' => $failed ? 'failed' : 'ok', 'failed' => $failed, 'checks' => $checks, 'backend' => gethostname()]), "\n";
