// The person's routes: timeline, access log, export. The HTTP chain has checked that a channel
// caller's token acts for the person named (pid); operators read the timeline and access log for
// complaint handling (and their reads are themselves in the person's access log).
import { peopleRoutes } from '#schemas/people';
import { problem } from '#shared/errors';
import { apiHandler } from '#shared/http';
import { accessLogPage } from '../access/store.ts';
import { getPerson } from '../institutions/store.ts';
import { exportPerson } from './export.ts';
import { timelinePage } from './store.ts';

/** A person who is not enrolled has no records: 404, so an id that was never issued reads as such. */
async function enrolled(personId: string): Promise<void> {
  if (!(await getPerson(personId))) throw problem('not-found', `no enrolment ${personId}`);
}

export const handler = apiHandler(peopleRoutes, {
  async getTimeline({ params, query }) {
    const [, page] = await Promise.all([enrolled(params.personId), timelinePage(params.personId, query.limit, query.nextToken)]);
    return { status: 200, body: page };
  },

  async getAccessLog({ params, query }) {
    const [, page] = await Promise.all([enrolled(params.personId), accessLogPage(params.personId, query.limit, query.nextToken)]);
    return { status: 200, body: page };
  },

  async exportPersonalData({ params, now }) {
    return { status: 200, body: await exportPerson(params.personId, now) };
  },
});
