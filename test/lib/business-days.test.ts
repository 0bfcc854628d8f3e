import { describe, expect, it } from 'vitest';
import {
  addBusinessDays,
  addCalendarDays,
  breachDeadlines,
  businessDaysBetween,
  federalHolidayOn,
  federalHolidays,
  isBusinessDay,
  optInFailureNoticeDue,
  toCalendarDate,
} from '../../lib/business-days';

describe('federal holidays', () => {
  it('lists the 11 observed holidays of 2026', () => {
    expect(federalHolidays(2026).map((h) => h.observed)).toEqual([
      '2026-01-01',
      '2026-01-19', // MLK: third Monday of January
      '2026-02-16', // Washington's Birthday
      '2026-05-25', // Memorial Day: last Monday of May
      '2026-06-19',
      '2026-07-03', // July 4 is a Saturday
      '2026-09-07',
      '2026-10-12',
      '2026-11-11',
      '2026-11-26', // Thanksgiving: fourth Thursday
      '2026-12-25',
    ]);
  });

  it.each([
    ['2026-07-03', 'Independence Day'], // Saturday July 4 -> Friday
    ['2021-06-18', 'Juneteenth National Independence Day'], // Saturday June 19 -> Friday
    ['2023-01-02', "New Year's Day"], // Sunday -> Monday
    ['2022-12-26', 'Christmas Day'], // Sunday -> Monday
    ['2021-12-31', "New Year's Day"], // Jan 1 2022 is a Saturday: observed the year before
    ['2027-07-05', 'Independence Day'], // Sunday -> Monday
  ])('observes %s as %s', (date, name) => {
    expect(federalHolidayOn(date)).toBe(name);
    expect(isBusinessDay(date)).toBe(false);
  });

  it('does not list a New Year observed in the previous year twice', () => {
    expect(federalHolidays(2022).some((h) => h.observed === '2022-01-01')).toBe(false);
    expect(federalHolidays(2022).some((h) => h.observed === '2022-12-26')).toBe(true);
    expect(federalHolidays(2021).filter((h) => h.name === "New Year's Day").map((h) => h.observed)).toEqual([
      '2021-01-01',
      '2021-12-31',
    ]);
  });

  it('has no Juneteenth before 2021 and no MLK before 1986', () => {
    expect(isBusinessDay('2020-06-19')).toBe(true);
    expect(federalHolidays(1985).some((h) => h.name.startsWith('Birthday of Martin'))).toBe(false);
    expect(federalHolidays(1986).some((h) => h.name.startsWith('Birthday of Martin'))).toBe(true);
  });

  it('the actual Saturday holiday is not itself a weekday holiday', () => {
    expect(federalHolidayOn('2026-07-04')).toBeNull();
    expect(isBusinessDay('2026-07-04')).toBe(false); // still a Saturday
  });

  it('computes Thanksgiving for any year', () => {
    const thanksgiving = (y: number) => federalHolidays(y).find((h) => h.name === 'Thanksgiving Day')!.observed;
    expect(thanksgiving(2024)).toBe('2024-11-28');
    expect(thanksgiving(2025)).toBe('2025-11-27');
    expect(thanksgiving(2030)).toBe('2030-11-28');
  });
});

describe('business-day arithmetic', () => {
  it('2026-11-25 + 5 business days skips Thanksgiving -> 2026-12-03', () => {
    expect(addBusinessDays('2026-11-25', 5)).toBe('2026-12-03');
  });

  it('skips the observed Friday July 3 2026 and the weekend', () => {
    expect(addBusinessDays('2026-07-02', 1)).toBe('2026-07-06');
  });

  it('does not count the start day, even when it is a holiday or weekend', () => {
    expect(addBusinessDays('2026-11-26', 1)).toBe('2026-11-27');
    expect(addBusinessDays('2026-03-07', 1)).toBe('2026-03-09'); // Saturday -> Monday
    expect(addBusinessDays('2026-03-10', 0)).toBe('2026-03-10');
  });

  it('counts back with negative n', () => {
    expect(addBusinessDays('2026-12-03', -5)).toBe('2026-11-25');
  });

  it('businessDaysBetween counts (from, to] and inverts addBusinessDays', () => {
    expect(businessDaysBetween('2026-11-25', '2026-12-03')).toBe(5);
    expect(businessDaysBetween('2026-12-03', '2026-11-25')).toBe(-5);
    expect(businessDaysBetween('2026-03-10', '2026-03-10')).toBe(0);
    for (const n of [1, 7, 20, 260]) {
      expect(businessDaysBetween('2026-01-01', addBusinessDays('2026-01-01', n))).toBe(n);
    }
  });

  it('has 250 business days in 2026', () => {
    expect(businessDaysBetween('2025-12-31', '2026-12-31')).toBe(250);
  });

  it('reads ISO date-times at their own offset and Dates in UTC', () => {
    expect(toCalendarDate('2026-11-25T22:30:00-05:00')).toBe('2026-11-25');
    expect(toCalendarDate(new Date('2026-11-26T03:30:00Z'))).toBe('2026-11-26');
    expect(addCalendarDays('2026-02-27', 2)).toBe('2026-03-01');
  });

  it('rejects things that are not calendar dates', () => {
    expect(() => isBusinessDay('2026-02-30')).toThrow(RangeError);
    expect(() => isBusinessDay('yesterday')).toThrow(RangeError);
    expect(() => addBusinessDays('2026-03-10', 1.5)).toThrow(RangeError);
  });
});

describe('breach clocks (64.2011; policy §2)', () => {
  // Determined Friday 2026-11-20; Thanksgiving 2026-11-26 falls inside the agency window.
  it('agency notice 7 business days after determination; customers after 7 full business days more', () => {
    const d = breachDeadlines('2026-11-20', { fccBreachOrder2023: false, immediateHarm: false });
    expect(d.agencies).toEqual(['USSS', 'FBI']);
    expect(d.agencyNoticeDue).toBe('2026-12-02');
    // 7 full business days after 12-02 end with Friday 12-11; customers from 12-12.
    expect(d.customerNoticeEarliest).toBe('2026-12-12');
    expect(d.customerNoticeLatest).toBeNull();
    expect(d.keepRecordsUntil).toBe('2028-11-20');
  });

  it('counts the customer wait from the actual agency notice when it is known', () => {
    const d = breachDeadlines('2026-11-20T16:00:00-05:00', {
      fccBreachOrder2023: false,
      immediateHarm: false,
      agencyNotifiedAt: '2026-11-23T09:00:00-05:00',
    });
    expect(d.customerNoticeEarliest).toBe('2026-12-04');
  });

  it('with the 2023 order: FCC is a recipient and customers are due within 30 days', () => {
    const d = breachDeadlines('2026-11-20', { fccBreachOrder2023: true, immediateHarm: false });
    expect(d.agencies).toEqual(['USSS', 'FBI', 'FCC']);
    expect(d.agencyNoticeDue).toBe('2026-12-02');
    expect(d.customerNoticeLatest).toBe('2026-12-20');
  });

  it('immediate harm lifts the customer wait (after consulting the agency)', () => {
    const d = breachDeadlines('2026-11-20', { fccBreachOrder2023: false, immediateHarm: true });
    expect(d.customerNoticeEarliest).toBe('2026-11-20');
    const notified = breachDeadlines('2026-11-20', {
      fccBreachOrder2023: false,
      immediateHarm: true,
      agencyNotifiedAt: '2026-11-23',
    });
    expect(notified.customerNoticeEarliest).toBe('2026-11-23');
  });
});

describe('opt-in failure notice (policy §12; 64.2009(f))', () => {
  it('is due 5 business days after it is recorded, skipping Christmas', () => {
    expect(optInFailureNoticeDue('2026-12-22')).toBe('2026-12-30');
    expect(optInFailureNoticeDue('2026-03-10T12:00:00-04:00')).toBe('2026-03-17');
  });
});
