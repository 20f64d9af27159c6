/**
 * A test whose prerequisite is missing (a Debian package, root, Linux) is a visible skip, never a pass;
 * under CI=true (where .ci/run installed everything) it is a failure, so a broken install cannot hide
 * a whole test.
 */
interface Assertable {
  pass(message: string, extra: { skip: string }): unknown;
  fail(message: string): unknown;
}

export function missingPrerequisite(t: Assertable, what: string): void {
  if (process.env.CI === 'true') t.fail(`missing prerequisite under CI: ${what}`);
  else t.pass(what, { skip: `missing prerequisite: ${what}` });
}

/** For a whole file that only runs on one platform: a skip (not a pass) on the others. */
export function onlyOn(t: Assertable, platform: NodeJS.Platform, why: string): boolean {
  if (process.platform === platform) return true;
  t.pass(why, { skip: `${platform} only: ${why}` });
  return false;
}
