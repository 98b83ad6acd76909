<?php
// Placeholder for Kanka's front page: public, so varnish may cache it.
header('Cache-Control: public, max-age=60');
header('X-Backend: ' . gethostname());
echo "Kanka is served by " . gethostname() . " at " . date('c') . "\n";
