// The statistics period the city screens start with: from the first day of the current month to today,
// as business dates (YYYY-MM-DD) in Asia/Shanghai whatever the browser's time zone.

/** `YYYY-MM-DD` of `instant` in Asia/Shanghai. */
export function shanghaiDate(instant: Date): string {
  // en-CA formats as YYYY-MM-DD
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(instant)
}

export interface Period {
  start: string
  end: string
}

/** This month so far: [first of the month, today]. */
export function monthToDate(now: Date = new Date()): Period {
  const today = shanghaiDate(now)
  return { start: `${today.slice(0, 8)}01`, end: today }
}

/** The last `days` days up to today (both included). */
export function lastDays(days: number, now: Date = new Date()): Period {
  const end = shanghaiDate(now)
  const start = shanghaiDate(new Date(now.getTime() - (days - 1) * 86_400_000))
  return { start, end }
}

/** `YYYY-MM-DD` of a date picker's day (a local midnight), as the picker shows it. */
export function pickerDate(day: Date): string {
  const month = String(day.getMonth() + 1).padStart(2, '0')
  const date = String(day.getDate()).padStart(2, '0')
  return `${day.getFullYear()}-${month}-${date}`
}
