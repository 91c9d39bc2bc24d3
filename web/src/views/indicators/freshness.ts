// How fresh the indicators are (GET /api/v1/indicators/status): the read model follows the registry,
// contracts and homecare change feeds; the dashboard says when its data was last in step with them, and
// warns when a feed is behind or failing.
import type { components } from '@/api/schema'

export type IndicatorsStatus = components['schemas']['IndicatorsStatus']
export type FeedStatus = components['schemas']['FeedStatus']

/** Lag beyond which the dashboard warns that its figures are behind (the followers poll every 5 s). */
export const LAG_WARNING_SECONDS = 300

export const FEED_NAMES: Record<string, string> = {
  registry: '机构登记',
  contracts: '医养签约',
  homecare: '居家护理',
}

export interface Freshness {
  level: 'fresh' | 'lagging' | 'failing'
  /** `数据更新于 11-30 14:26` */
  text: string
  /** One line per feed for the tooltip. */
  feeds: string[]
}

/** `2 秒`, `3 分钟`, `1 小时 5 分钟`, `2 天`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return `${s} 秒`
  const minutes = Math.floor(s / 60)
  if (minutes < 60) return `${minutes} 分钟`
  const hours = Math.floor(minutes / 60)
  if (hours < 24) return minutes % 60 ? `${hours} 小时 ${minutes % 60} 分钟` : `${hours} 小时`
  return `${Math.floor(hours / 24)} 天`
}

/** `MM-DD HH:mm` in China time. */
export function chinaTime(iso: string): string {
  const date = new Date(new Date(iso).getTime() + 8 * 3600 * 1000)
  const two = (n: number): string => String(n).padStart(2, '0')
  return `${two(date.getUTCMonth() + 1)}-${two(date.getUTCDate())} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}`
}

function feedLine(feed: FeedStatus): string {
  const name = FEED_NAMES[feed.feed] ?? feed.feed
  if (feed.consecutive_failures > 0) {
    return `${name}：连续 ${feed.consecutive_failures} 次同步失败（${feed.last_error_detail ?? feed.last_error_code ?? '未知错误'}）`
  }
  if (feed.last_success_at === null || feed.last_success_at === undefined) return `${name}：尚未同步`
  const lag = feed.lag_seconds === null || feed.lag_seconds === undefined ? '' : `，滞后 ${formatDuration(feed.lag_seconds)}`
  return `${name}：${feed.caught_up ? '已同步' : '同步中'}${lag}`
}

/** The dashboard's freshness line: as of the check time minus the largest lag of the feeds. */
export function summarizeFreshness(status: IndicatorsStatus): Freshness {
  const feeds = status.feeds.map(feedLine)
  const failing = status.feeds.some((f) => f.consecutive_failures > 0)
  const neverRead = status.feeds.some((f) => f.last_success_at === null || f.last_success_at === undefined)
  const lag = Math.max(0, ...status.feeds.map((f) => f.lag_seconds ?? 0))
  const asOf = new Date(new Date(status.checked_at).getTime() - lag * 1000).toISOString()
  if (failing) return { level: 'failing', text: `数据同步异常，数据更新于 ${chinaTime(asOf)}`, feeds }
  if (neverRead) return { level: 'lagging', text: '数据尚未同步完成', feeds }
  if (lag > LAG_WARNING_SECONDS) return { level: 'lagging', text: `数据滞后 ${formatDuration(lag)}`, feeds }
  return { level: 'fresh', text: `数据更新于 ${chinaTime(asOf)}`, feeds }
}
