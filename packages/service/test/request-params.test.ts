import { describe, expect, it } from 'vitest';
import { ganttGroups, idParam, jobFilter, pageRequest, sinceTime } from '../src/request-params.js';

const message = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected an error');
};

describe('request parameters', () => {
  it('reads paging and ordering, with defaults', () => {
    expect(pageRequest({})).toEqual({ start: 0, max: 100, order: undefined });
    expect(pageRequest({ 'start-index': '20', 'max-results': '10000', order: '-name' })).toEqual({
      start: 20,
      max: 10000,
      order: '-name',
    });
  });

  it.each([
    [{ 'start-index': '-1' }, 'start-index="-1": expected an integer from 0 to 9007199254740991'],
    [{ 'max-results': '0' }, 'max-results="0": expected an integer from 1 to 10000'],
    [{ 'max-results': '10001' }, 'max-results="10001": expected an integer from 1 to 10000'],
    [{ 'max-results': '1e3' }, 'max-results="1e3": expected an integer from 1 to 10000'],
    [{ 'max-results': '' }, 'max-results="": expected an integer from 1 to 10000'],
    [{ order: ['a', 'b'] }, 'order: given 2 times, expected once'],
  ])('refuses %j', (query, expected) => {
    expect(message(() => pageRequest(query))).toBe(expected);
  });

  it('reads the job filter, the Gantt groups, the time filter and ids', () => {
    expect(jobFilter({})).toBe('all');
    expect(jobFilter({ filter: 'failing' })).toBe('failing');
    expect(message(() => jobFilter({ filter: 'done' }))).toBe(
      'filter="done": expected one of all, failed, running, successful, failing',
    );
    expect(ganttGroups({})).toBeUndefined();
    expect(ganttGroups({ groups: '100' })).toBe(100);
    expect(message(() => ganttGroups({ groups: '1001' }))).toBe(
      'groups="1001": expected an integer from 1 to 1000',
    );
    expect(sinceTime({}, 1_000_000)).toBe(0);
    expect(sinceTime({ since: 'day' }, 1_000_000)).toBe(1_000_000 - 86_400);
    expect(sinceTime({ since: 'week' }, 1_000_000)).toBe(1_000_000 - 7 * 86_400);
    expect(message(() => sinceTime({ since: 'year' }))).toBe(
      'since="year": expected one of day, week, month, all',
    );
    expect(idParam('42', 'job')).toBe(42);
    for (const bad of ['0', '-1', 'x', '1.5', '', undefined, '9'.repeat(20)]) {
      expect(message(() => idParam(bad, 'job'))).toMatch(/^job ".*": expected a positive integer id$/);
    }
  });
});
