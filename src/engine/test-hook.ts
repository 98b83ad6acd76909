/**
 * TEST HOOK, not a feature: KANKA_TEST_FAIL_HOST=<host> makes the run throw an internal error (as a
 * bug would) while applying that host, after its lock is taken; KANKA_TEST_FAIL_HOST=<host>:plan
 * while planning it. The unit and e2e tests use it to prove that one host's bug leaves no lock and
 * no open connection behind and that the other hosts still converge. Read here and nowhere else.
 */
export function injectedFailure(
  host: string,
  phase: 'plan' | 'apply',
  env: NodeJS.ProcessEnv = process.env,
): Error | undefined {
  const wanted = env['KANKA_TEST_FAIL_HOST'];
  if (!wanted) return undefined;
  const [name, at = 'apply'] = wanted.split(':');
  if (name !== host || at !== phase) return undefined;
  return new Error(`injected by KANKA_TEST_FAIL_HOST=${wanted} (test hook)`);
}
