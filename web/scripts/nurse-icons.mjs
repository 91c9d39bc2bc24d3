// @ts-check
// Writes the nurse app's icons (web/nurse/public/icon.svg, icon-192.png, icon-512.png): a white medical
// cross on the app's blue, in a rounded square (the PNGs drawn pixel by pixel, no image library).
// `node scripts/nurse-icons.mjs` — the files are committed; rerun only to change the design.
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { crc32, deflateSync } from 'node:zlib'

const OUT = resolve(import.meta.dirname, '..', 'nurse', 'public')
const BLUE = [0x1f, 0x6f, 0xeb]
const WHITE = [0xff, 0xff, 0xff]

/** @param {number} x @param {number} y @param {number} size */
function colour(x, y, size) {
  const u = x / size
  const v = y / size
  const r = 0.18 // corner radius (fraction of the side)
  const cx = Math.min(Math.max(u, r), 1 - r)
  const cy = Math.min(Math.max(v, r), 1 - r)
  if ((u - cx) ** 2 + (v - cy) ** 2 > r * r) return null // outside the rounded square: transparent
  const arm = Math.abs(u - 0.5) < 0.11 && Math.abs(v - 0.5) < 0.3
  const bar = Math.abs(v - 0.5) < 0.11 && Math.abs(u - 0.5) < 0.3
  return arm || bar ? WHITE : BLUE
}

/** @param {string} type @param {Buffer} data */
function chunk(type, data) {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([length, body, crc])
}

/** @param {number} size */
function png(size) {
  const rows = []
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4) // filter byte 0, then RGBA
    for (let x = 0; x < size; x++) {
      const c = colour(x + 0.5, y + 0.5, size)
      if (c) row.set([...c, 0xff], 1 + x * 4)
    }
    rows.push(row)
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(size, 0)
  header.writeUInt32BE(size, 4)
  header.set([8, 6, 0, 0, 0], 8) // 8 bits, RGBA
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))])
}

const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">
  <rect width="100" height="100" rx="18" fill="#1f6feb"/>
  <rect x="39" y="20" width="22" height="60" fill="#fff"/>
  <rect x="20" y="39" width="60" height="22" fill="#fff"/>
</svg>
`
writeFileSync(join(OUT, 'icon.svg'), svg)
for (const size of [192, 512]) writeFileSync(join(OUT, `icon-${size}.png`), png(size))
console.log(`icons written to ${OUT}`)
