import { JOB_FILTERS, type JobFilter, MAX_PAGE_ROWS, type PageRequest } from '@pegasus-ts/monitor';
import { ServiceError } from './errors.js';

/** A query string as the server parsed it (a repeated key gives an array). */
export type Query = Record<string, string | string[] | undefined>;

function one(query: Query, key: string): string | undefined {
  const v = query[key];
  if (Array.isArray(v)) throw new ServiceError(`${key}: given ${v.length} times, expected once`);
  return v;
}

function integer(query: Query, key: string, min: number, max: number): number | undefined {
  const v = one(query, key);
  if (v === undefined) return undefined;
  const n = /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ServiceError(`${key}=${JSON.stringify(v)}: expected an integer from ${min} to ${max}`);
  }
  return n;
}

/** Paging and ordering: `start-index` (0-based, default 0), `max-results` (1..10000, default 100), `order`. */
export function pageRequest(query: Query): PageRequest {
  return {
    start: integer(query, 'start-index', 0, Number.MAX_SAFE_INTEGER) ?? 0,
    max: integer(query, 'max-results', 1, MAX_PAGE_ROWS) ?? 100,
    order: one(query, 'order'),
  };
}

/** Gantt chart grouping: `groups` (1..1000), undefined for one bar per job attempt. */
export function ganttGroups(query: Query): number | undefined {
  return integer(query, 'groups', 1, 1000);
}

/** The job list filter: `filter` (all, failed, running, successful, failing; default all). */
export function jobFilter(query: Query): JobFilter {
  const v = one(query, 'filter') ?? 'all';
  if (!(JOB_FILTERS as readonly string[]).includes(v)) {
    throw new ServiceError(`filter=${JSON.stringify(v)}: expected one of ${JOB_FILTERS.join(', ')}`);
  }
  return v as JobFilter;
}

/** The workflow list's time filter. */
export const TIME_FILTERS = {
  day: 86_400,
  week: 7 * 86_400,
  month: 30 * 86_400,
  all: Number.POSITIVE_INFINITY,
};
export type TimeFilter = keyof typeof TIME_FILTERS;

/** `since` (day, week, month, all; default all): the earliest registration time to list, seconds since the epoch. */
export function sinceTime(query: Query, now = Date.now() / 1000): number {
  const v = one(query, 'since') ?? 'all';
  if (!Object.hasOwn(TIME_FILTERS, v)) {
    throw new ServiceError(
      `since=${JSON.stringify(v)}: expected one of ${Object.keys(TIME_FILTERS).join(', ')}`,
    );
  }
  const span = TIME_FILTERS[v as TimeFilter];
  return Number.isFinite(span) ? now - span : 0;
}

/** A positive integer id from a path (`what` names it in the error). */
export function idParam(value: string | undefined, what: string): number {
  const n = value !== undefined && /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new ServiceError(`${what} ${JSON.stringify(value ?? '')}: expected a positive integer id`);
  }
  return n;
}
