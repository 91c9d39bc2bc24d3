import type { DayOrder } from './offline/store'

/** `YYYY-MM-DD` in Beijing time (the platform's business day). */
export function shanghaiDate(at: Date): string {
  return at.toLocaleDateString('en-CA', { timeZone: 'Asia/Shanghai' })
}

/** `HH:MM` in Beijing time. */
export function clock(at: string): string {
  return new Date(at).toLocaleTimeString('zh-CN', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hour12: false })
}

export function timeRange(start: string, end: string): string {
  return `${clock(start)}–${clock(end)}`
}

/** A map app's navigation link (amap's URI: the marker when coordinates are known, else a search). */
export function mapLink(order: Pick<DayOrder, 'latitude' | 'longitude' | 'address' | 'recipientName'>): string {
  if (order.latitude !== null && order.longitude !== null) {
    const params = new URLSearchParams({ position: `${order.longitude},${order.latitude}`, name: order.address, callnative: '1' })
    return `https://uri.amap.com/marker?${params.toString()}`
  }
  return `https://uri.amap.com/search?${new URLSearchParams({ keyword: order.address }).toString()}`
}

/** SHA-256 of bytes as lowercase hex (what the API keys attachments by). */
export async function sha256Hex(data: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', data)
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}
