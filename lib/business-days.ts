// Business-day clocks for breach notices (64.2011) and opt-in failure notices (64.2009(f)).
//
// Everything here works on calendar dates written `YYYY-MM-DD` (type CalendarDate) and returns
// them. Inputs may also be:
//   - an ISO date-time string: its date part as written, i.e. the date at its own offset
//     (send carrier-local timestamps, e.g. "2026-11-25T18:00:00-05:00", to count in local time);
//   - a Date: its UTC calendar date.
// A business day is Monday-Friday that is not a US federal holiday (observed date).

export type CalendarDate = string;
export type DateLike = CalendarDate | Date;

const DAY_MS = 86_400_000;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})/;

// --- calendar-date plumbing: dates are days since 1970-01-01 internally ---

function toDayNumber(d: DateLike): number {
  if (d instanceof Date) {
    const t = d.getTime();
    if (Number.isNaN(t)) throw new RangeError('invalid Date');
    return Math.floor(t / DAY_MS);
  }
  const m = DATE_RE.exec(d);
  if (!m) throw new RangeError(`not a calendar date: ${JSON.stringify(d)}`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const da = Number(m[3]);
  const t = Date.UTC(y, mo - 1, da);
  const back = new Date(t);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== da) {
    throw new RangeError(`not a calendar date: ${JSON.stringify(d)}`);
  }
  return t / DAY_MS;
}

function fromDayNumber(n: number): CalendarDate {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}

function ymd(y: number, month: number, day: number): number {
  return Date.UTC(y, month - 1, day) / DAY_MS;
}

/** 0 = Sunday ... 6 = Saturday. 1970-01-01 was a Thursday. */
function weekdayOf(n: number): number {
  return (((n + 4) % 7) + 7) % 7;
}

/** The calendar date of `d` (see the header for how inputs are read). */
export function toCalendarDate(d: DateLike): CalendarDate {
  return fromDayNumber(toDayNumber(d));
}

export function addCalendarDays(d: DateLike, n: number): CalendarDate {
  return fromDayNumber(toDayNumber(d) + n);
}

// --- US federal holidays (5 U.S.C. 6103; MLK from 1986, Juneteenth from 2021) ---

export interface FederalHoliday {
  name: string;
  /** The day the holiday falls on. */
  actual: CalendarDate;
  /** The day it is observed: Saturday -> Friday before, Sunday -> Monday after. */
  observed: CalendarDate;
}

/** The nth (1-based) `weekday` of a month; n = -1 is the last one. */
function nthWeekday(y: number, month: number, weekday: number, n: number): number {
  if (n > 0) {
    const first = ymd(y, month, 1);
    return first + ((weekday - weekdayOf(first) + 7) % 7) + (n - 1) * 7;
  }
  const last = ymd(y, month + 1, 1) - 1;
  return last - ((weekdayOf(last) - weekday + 7) % 7);
}

function observedDay(n: number): number {
  const wd = weekdayOf(n);
  if (wd === 6) return n - 1;
  if (wd === 0) return n + 1;
  return n;
}

function holidaysFalling(y: number): { name: string; day: number }[] {
  const list: { name: string; day: number }[] = [{ name: "New Year's Day", day: ymd(y, 1, 1) }];
  if (y >= 1986) list.push({ name: 'Birthday of Martin Luther King, Jr.', day: nthWeekday(y, 1, 1, 3) });
  list.push(
    { name: "Washington's Birthday", day: nthWeekday(y, 2, 1, 3) },
    { name: 'Memorial Day', day: nthWeekday(y, 5, 1, -1) },
  );
  if (y >= 2021) list.push({ name: 'Juneteenth National Independence Day', day: ymd(y, 6, 19) });
  list.push(
    { name: 'Independence Day', day: ymd(y, 7, 4) },
    { name: 'Labor Day', day: nthWeekday(y, 9, 1, 1) },
    { name: 'Columbus Day', day: nthWeekday(y, 10, 1, 2) },
    { name: 'Veterans Day', day: ymd(y, 11, 11) },
    { name: 'Thanksgiving Day', day: nthWeekday(y, 11, 4, 4) },
    { name: 'Christmas Day', day: ymd(y, 12, 25) },
  );
  return list;
}

/**
 * Federal holidays whose observed date lies in `year`. A New Year's Day on a Saturday is
 * observed on Friday December 31 of the year before, so it is listed in that year.
 */
export function federalHolidays(year: number): FederalHoliday[] {
  const out: FederalHoliday[] = [];
  for (const y of [year, year + 1]) {
    for (const h of holidaysFalling(y)) {
      const obs = observedDay(h.day);
      if (new Date(obs * DAY_MS).getUTCFullYear() !== year) continue;
      out.push({ name: h.name, actual: fromDayNumber(h.day), observed: fromDayNumber(obs) });
    }
  }
  return out.sort((a, b) => (a.observed < b.observed ? -1 : a.observed > b.observed ? 1 : 0));
}

const observedByYear = new Map<number, Map<number, string>>();

function observedHolidays(year: number): Map<number, string> {
  let m = observedByYear.get(year);
  if (!m) {
    m = new Map();
    for (const h of federalHolidays(year)) m.set(toDayNumber(h.observed), h.name);
    observedByYear.set(year, m);
  }
  return m;
}

function holidayNameOfDay(n: number): string | null {
  return observedHolidays(new Date(n * DAY_MS).getUTCFullYear()).get(n) ?? null;
}

/** The federal holiday observed on `d`, or null. */
export function federalHolidayOn(d: DateLike): string | null {
  return holidayNameOfDay(toDayNumber(d));
}

function isBusinessDayNumber(n: number): boolean {
  const wd = weekdayOf(n);
  return wd !== 0 && wd !== 6 && holidayNameOfDay(n) === null;
}

export function isBusinessDay(d: DateLike): boolean {
  return isBusinessDayNumber(toDayNumber(d));
}

/**
 * The n-th business day after `d` (d itself is never counted, whether or not it is a business
 * day); n < 0 counts back. n = 0 returns d.
 */
export function addBusinessDays(d: DateLike, n: number): CalendarDate {
  if (!Number.isInteger(n)) throw new RangeError('business days must be a whole number');
  let day = toDayNumber(d);
  const step = n < 0 ? -1 : 1;
  for (let left = Math.abs(n); left > 0; ) {
    day += step;
    if (isBusinessDayNumber(day)) left--;
  }
  return fromDayNumber(day);
}

/**
 * Business days in (from, to]: after `from`, up to and including `to`. So
 * businessDaysBetween(d, addBusinessDays(d, n)) === n. Negative when `to` is before `from`.
 */
export function businessDaysBetween(from: DateLike, to: DateLike): number {
  const a = toDayNumber(from);
  const b = toDayNumber(to);
  if (b < a) return -businessDaysBetween(to, from);
  let count = 0;
  for (let day = a + 1; day <= b; day++) if (isBusinessDayNumber(day)) count++;
  return count;
}

// --- notice clocks ---

export type BreachAgency = 'USSS' | 'FBI' | 'FCC';

export interface BreachDeadlines {
  /** Who gets the agency notice: USSS and FBI; the FCC too under the 2023 order. */
  agencies: BreachAgency[];
  /** Last day for the agency notice: 7 business days after the determination (64.2011(b)). */
  agencyNoticeDue: CalendarDate;
  /**
   * First day customers may be told: the day after 7 full business days have passed since the
   * agency notice (64.2011(b)(1); policy §2B). Counted from `agencyNotifiedAt` when given, else
   * from `agencyNoticeDue` (so it is never too early). With immediate and irreparable harm it
   * is the agency notice day (or the determination day if not yet notified): notify only
   * after consulting the investigating agency (64.2011(b)(2); policy §2C).
   */
  customerNoticeEarliest: CalendarDate;
  /** FCC 23-111 only: customers no later than 30 days after the determination; else null. */
  customerNoticeLatest: CalendarDate | null;
  /** Breach records are kept at least 2 years (64.2011(d); policy §2). */
  keepRecordsUntil: CalendarDate;
}

export interface BreachOptions {
  fccBreachOrder2023: boolean;
  immediateHarm: boolean;
  /** When the agency notice actually went out, once it has. */
  agencyNotifiedAt?: DateLike | null;
}

export function breachDeadlines(determinedAt: DateLike, opts: BreachOptions): BreachDeadlines {
  const determined = toCalendarDate(determinedAt);
  const agencyNoticeDue = addBusinessDays(determined, 7);
  const agencyDay = opts.agencyNotifiedAt ? toCalendarDate(opts.agencyNotifiedAt) : null;
  const customerNoticeEarliest = opts.immediateHarm
    ? (agencyDay ?? determined)
    : addCalendarDays(addBusinessDays(agencyDay ?? agencyNoticeDue, 7), 1);
  const [y, m, d] = determined.split('-').map(Number);
  // 2 years on: Feb 29 rolls to Mar 1, which keeps records a day longer, never shorter.
  const keepRecordsUntil = fromDayNumber(Date.UTC(y + 2, m - 1, d) / DAY_MS);
  return {
    agencies: opts.fccBreachOrder2023 ? ['USSS', 'FBI', 'FCC'] : ['USSS', 'FBI'],
    agencyNoticeDue,
    customerNoticeEarliest,
    customerNoticeLatest: opts.fccBreachOrder2023 ? addCalendarDays(determined, 30) : null,
    keepRecordsUntil,
  };
}

/** Written notice to the FCC is due 5 business days after the failure is recorded (policy §12; 64.2009(f)). */
export function optInFailureNoticeDue(recordedAt: DateLike): CalendarDate {
  return addBusinessDays(recordedAt, 5);
}
