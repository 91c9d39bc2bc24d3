import { describe, expect, it } from 'vitest'

import { formatDuration, summarizeFreshness, type FeedStatus, type IndicatorsStatus } from './freshness'

function feed(overrides: Partial<FeedStatus>): FeedStatus {
  return {
    feed: 'registry',
    entity_types: ['institution'],
    cursor: 'c',
    last_seq: 10,
    last_changed_at: '2026-11-30T06:00:00Z',
    entries_applied: 10,
    caught_up: true,
    last_success_at: '2026-11-30T06:26:00Z',
    last_attempt_at: '2026-11-30T06:26:00Z',
    last_error_code: null,
    last_error_detail: null,
    last_error_at: null,
    consecutive_failures: 0,
    next_attempt_at: null,
    lag_seconds: 2,
    lag_entries: 0,
    ...overrides,
  }
}

function status(...feeds: FeedStatus[]): IndicatorsStatus {
  return { checked_at: '2026-11-30T06:26:10Z', feeds }
}

describe('freshness of the indicators', () => {
  it('says when the data was last in step, in China time, less the largest lag', () => {
    const fresh = summarizeFreshness(status(feed({ lag_seconds: 10 }), feed({ feed: 'homecare', lag_seconds: 70 })))
    expect(fresh.level).toBe('fresh')
    expect(fresh.text).toBe('数据更新于 11-30 14:25') // 06:26:10 − 70 s = 06:25:00 UTC
    expect(fresh.feeds).toEqual(['机构登记：已同步，滞后 10 秒', '居家护理：已同步，滞后 1 分钟'])
  })

  it('warns when a feed is far behind or failing', () => {
    expect(summarizeFreshness(status(feed({ caught_up: false, lag_seconds: 3700 }))).text).toBe('数据滞后 1 小时 1 分钟')
    const failing = summarizeFreshness(
      status(feed({ consecutive_failures: 3, last_error_detail: 'registry 变更订阅返回错误 502' })),
    )
    expect(failing.level).toBe('failing')
    expect(failing.feeds[0]).toBe('机构登记：连续 3 次同步失败（registry 变更订阅返回错误 502）')
    expect(summarizeFreshness(status(feed({ last_success_at: null, lag_seconds: null }))).level).toBe('lagging')
  })

  it('writes durations in Chinese', () => {
    expect(formatDuration(0.4)).toBe('0 秒')
    expect(formatDuration(180)).toBe('3 分钟')
    expect(formatDuration(7200)).toBe('2 小时')
    expect(formatDuration(3 * 86400)).toBe('3 天')
  })
})
