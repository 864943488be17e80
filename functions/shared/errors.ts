import { clipErrors, problemCatalog, type Problem, type ProblemSlug } from '#schemas/problems';

/** An error that becomes an RFC 9457 response. Thrown by domain and store code; mapped in one place. */
export class HttpProblem extends Error {
  readonly status: number;
  constructor(
    readonly slug: ProblemSlug,
    readonly detail?: string,
    readonly errors?: Problem['errors'],
    readonly headers?: Record<string, string>,
  ) {
    super(detail ?? slug);
    this.name = 'HttpProblem';
    this.status = problemCatalog[slug].status;
  }
}

export const problem = (slug: ProblemSlug, detail?: string, errors?: Problem['errors']) => new HttpProblem(slug, detail, errors);

/** zod issues → the `errors` list of a validation-failed problem. */
export function issuesToErrors(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
  prefix = '',
): NonNullable<Problem['errors']> {
  return clipErrors(
    issues.map((i) => ({
      path: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(root)',
      message: i.message,
    })),
  );
}
