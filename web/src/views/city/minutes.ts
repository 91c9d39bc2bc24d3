// Durations of the referral statistics (minutes, fractional) as officials read them.

/** `95.5` → `1 小时 36 分`; under an hour `42 分`; a day or more `2 天 3 小时`; null → `—`. */
export function formatMinutes(minutes: number | null | undefined): string {
  if (minutes === null || minutes === undefined) return '—'
  const total = Math.round(minutes)
  if (total < 60) return `${total} 分`
  const days = Math.floor(total / 1440)
  const hours = Math.floor((total % 1440) / 60)
  const rest = total % 60
  if (days > 0) return hours > 0 ? `${days} 天 ${hours} 小时` : `${days} 天`
  return rest > 0 ? `${hours} 小时 ${rest} 分` : `${hours} 小时`
}
