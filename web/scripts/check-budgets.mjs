// @ts-check
// Size budgets of the console build (issue 15), gzipped as a browser downloads it:
//   initial JS — index.html's module script and what it loads before the first paint (its static
//                imports, which Vite also lists as modulepreload links) — at most 350 KB;
//   each lazy route chunk (a dynamic import's entry) at most 150 KB.
// Reads dist/index.html and Vite's manifest (dist/.vite/manifest.json, build.manifest). Prints every
// figure; exits 1 over budget. `node scripts/check-budgets.mjs --initial-kb 350 --route-kb 150`.
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'

const { values } = parseArgs({
  options: {
    dist: { type: 'string', default: resolve(import.meta.dirname, '..', 'dist') },
    'initial-kb': { type: 'string', default: '350' },
    'route-kb': { type: 'string', default: '150' },
  },
})
const dist = values.dist
const initialBudget = Number(values['initial-kb']) * 1024
const routeBudget = Number(values['route-kb']) * 1024

const manifestPath = join(dist, '.vite', 'manifest.json')
if (!existsSync(manifestPath)) {
  console.error(`${manifestPath} 不存在：构建需开启 build.manifest（web/vite.config.ts），并先运行 npm run build`)
  process.exit(1)
}
/** @type {Record<string, {file: string, isEntry?: boolean, isDynamicEntry?: boolean, imports?: string[], dynamicImports?: string[], css?: string[], src?: string, name?: string}>} */
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'))

/** @param {string} file */
const gzipped = (file) => gzipSync(readFileSync(join(dist, file))).length
/** @param {number} bytes */
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`

/** The chunk keys a chunk loads statically, itself included. @param {string} key @param {Set<string>} seen */
function staticClosure(key, seen = new Set()) {
  if (seen.has(key)) return seen
  seen.add(key)
  for (const imported of manifest[key]?.imports ?? []) staticClosure(imported, seen)
  return seen
}

// index.html's module scripts and modulepreloads, each cross-checked against the manifest's closure
const html = readFileSync(join(dist, 'index.html'), 'utf8')
const referenced = [
  ...html.matchAll(/<script[^>]*type="module"[^>]*src="\/?([^"]+)"/g),
  ...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="\/?([^"]+)"/g),
].map((m) => m[1] ?? '')
const entries = Object.keys(manifest).filter((key) => manifest[key]?.isEntry)
const initialKeys = new Set()
for (const entry of entries) staticClosure(entry, initialKeys)
const initialFiles = new Set([...initialKeys].map((key) => manifest[key]?.file ?? ''))
for (const file of referenced) initialFiles.add(file)

let failed = false
let initialTotal = 0
console.log('首屏 JS (initial JS, gzip):')
for (const file of [...initialFiles].sort()) {
  const size = gzipped(file)
  initialTotal += size
  console.log(`  ${kb(size).padStart(9)}  ${file}`)
}
const initialOk = initialTotal <= initialBudget
failed ||= !initialOk
console.log(`  ${kb(initialTotal).padStart(9)}  合计 (total), 预算 ${kb(initialBudget)} ${initialOk ? 'OK' : '超出预算 OVER BUDGET'}`)

console.log('懒加载路由 (lazy route chunks, gzip; "+ shared" is what else the route loads beyond the initial JS):')
const routes = Object.keys(manifest).filter((key) => manifest[key]?.isDynamicEntry)
for (const key of routes.sort()) {
  const chunk = manifest[key]
  if (!chunk) continue
  const own = gzipped(chunk.file)
  const extra = [...staticClosure(key)]
    .map((k) => manifest[k]?.file ?? '')
    .filter((file) => file !== chunk.file && !initialFiles.has(file))
  const shared = extra.reduce((sum, file) => sum + gzipped(file), 0)
  const ok = own <= routeBudget
  failed ||= !ok
  console.log(`  ${kb(own).padStart(9)}  ${chunk.src ?? key}${shared ? ` (+ shared ${kb(shared)})` : ''}${ok ? '' : `  超出预算 ${kb(routeBudget)} OVER BUDGET`}`)
}
if (routes.length === 0) console.log('  (none)')
process.exit(failed ? 1 : 0)
