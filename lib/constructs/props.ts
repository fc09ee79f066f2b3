/** Props validation shared by the constructs: collect every problem, throw once. */
import { PushGuardError } from '../../lambdas/domain/errors.ts';

/** A construct's props are unusable; `problems` lists every one of them. */
export class InvalidPropsError extends PushGuardError {
  readonly problems: readonly string[];
  constructor(construct: string, problems: readonly string[]) {
    super(`invalid ${construct} props:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

/** Throws InvalidPropsError when `problems` is not empty. */
export function assertValidProps(construct: string, problems: readonly string[]): void {
  if (problems.length > 0) throw new InvalidPropsError(construct, problems);
}
