// Examples from the EventBridge user guide, "Creating event patterns" and "Content filtering".
import { describe, expect, it } from 'vitest';
import { matches } from '../../infra/local/event-pattern.ts';
import { subscriptions } from '../../events/subscriptions.ts';
import { patternFor } from '../../events/catalog.ts';
import { InstitutionRegistered, DrugCatalogChanged } from '../../events/institutions.ts';
import { outboxStreamFilter } from '../../functions/shared/table.ts';

const ec2Event = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated', 'c-count': 5, 'd-count': 7, 'x-limit': 301.8, 'source-ip': '10.0.0.123' },
};

describe('EventBridge pattern matching', () => {
  it('matches exact values, any value of a list, nested detail fields', () => {
    expect(matches({ source: ['aws.ec2'] }, ec2Event)).toBe(true);
    expect(matches({ source: ['aws.s3', 'aws.ec2'] }, ec2Event)).toBe(true);
    expect(matches({ source: ['aws.s3'] }, ec2Event)).toBe(false);
    expect(matches({ detail: { state: ['terminated'] } }, ec2Event)).toBe(true);
    expect(matches({ detail: { state: ['running'] } }, ec2Event)).toBe(false);
  });

  it('matches when any element of an event array matches (resources)', () => {
    expect(matches({ resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0', 'other'] }, ec2Event)).toBe(true);
  });

  it('prefix, suffix, equals-ignore-case and wildcard', () => {
    expect(matches({ time: [{ prefix: '2017-12-22' }] }, ec2Event)).toBe(true);
    expect(matches({ time: [{ prefix: '2018' }] }, ec2Event)).toBe(false);
    expect(matches({ source: [{ suffix: '.ec2' }] }, ec2Event)).toBe(true);
    expect(matches({ detail: { state: [{ 'equals-ignore-case': 'TERMINATED' }] } }, ec2Event)).toBe(true);
    expect(matches({ source: [{ prefix: { 'equals-ignore-case': 'AWS.' } }] }, ec2Event)).toBe(true);
    expect(matches({ 'detail-type': [{ wildcard: 'EC2 * Notification' }] }, ec2Event)).toBe(true);
    expect(matches({ 'detail-type': [{ wildcard: 'EC2*Change' }] }, ec2Event)).toBe(false);
  });

  it('anything-but with a value, a list and a prefix', () => {
    expect(matches({ detail: { state: [{ 'anything-but': 'initializing' }] } }, ec2Event)).toBe(true);
    expect(matches({ detail: { state: [{ 'anything-but': ['stopped', 'terminated'] }] } }, ec2Event)).toBe(false);
    expect(matches({ source: [{ 'anything-but': { prefix: 'aws.' } }] }, ec2Event)).toBe(false);
  });

  it('numeric ranges', () => {
    expect(matches({ detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }], 'd-count': [{ numeric: ['<', 10] }], 'x-limit': [{ numeric: ['=', 301.8] }] } }, ec2Event)).toBe(true);
    expect(matches({ detail: { 'c-count': [{ numeric: ['>', 5] }] } }, ec2Event)).toBe(false);
  });

  it('exists true/false; an absent field matches nothing else', () => {
    expect(matches({ detail: { state: [{ exists: true }] } }, ec2Event)).toBe(true);
    expect(matches({ detail: { 'no-such': [{ exists: false }] } }, ec2Event)).toBe(true);
    expect(matches({ detail: { state: [{ exists: false }] } }, ec2Event)).toBe(false);
    expect(matches({ detail: { 'no-such': [{ 'anything-but': 'x' }] } }, ec2Event)).toBe(false);
  });

  it('$or: any alternative, combined with the other fields', () => {
    const pattern = { source: ['aws.ec2'], $or: [{ detail: { 'c-count': [{ numeric: ['>', 10] }] } }, { detail: { state: ['terminated'] } }] };
    expect(matches(pattern, ec2Event)).toBe(true);
    expect(matches({ ...pattern, source: ['aws.s3'] }, ec2Event)).toBe(false);
  });

  it('catalog patterns select exactly their events', () => {
    const p = patternFor(InstitutionRegistered);
    expect(matches(p, { source: 'consortium.institutions', 'detail-type': 'InstitutionRegistered' })).toBe(true);
    expect(matches(p, { source: 'consortium.institutions', 'detail-type': 'DrugCatalogChanged' })).toBe(false);
    const both = patternFor(InstitutionRegistered, DrugCatalogChanged);
    expect(matches(both, { source: 'consortium.institutions', 'detail-type': 'DrugCatalogChanged' })).toBe(true);
  });

  it('every subscription pattern is one the matcher understands', () => {
    for (const s of subscriptions) expect(() => matches(s.pattern, { source: 'x' })).not.toThrow();
  });

  it('the relay filter passes only inserted outbox items (Lambda filter syntax)', () => {
    const record = (eventName: string, pk: string) => ({ eventName, dynamodb: { Keys: { PK: { S: pk }, SK: { S: 'EVENT' } } } });
    expect(matches(outboxStreamFilter, record('INSERT', 'OUTBOX#evt_1'))).toBe(true);
    expect(matches(outboxStreamFilter, record('REMOVE', 'OUTBOX#evt_1'))).toBe(false);
    expect(matches(outboxStreamFilter, record('INSERT', 'INST#a'))).toBe(false);
  });
});
