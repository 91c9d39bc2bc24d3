// The nurses' mobile app (issue 18): a second build of its own, served by the gateway at /nurse/ from
// dist/nurse (index.html for every /nurse/… page, hashed files under /nurse/assets/), installable as a
// PWA whose service worker (/nurse/sw.js, scope /nurse/) precaches the app shell so that it opens offline.
// The API is never cached by the worker: the app keeps the day's data and its queue in IndexedDB.
import { fileURLToPath, URL } from 'node:url'

import vue from '@vitejs/plugin-vue'
import { defineConfig, type Plugin } from 'vite'
import { VitePWA } from 'vite-plugin-pwa'

const API_TARGET = process.env.YY_API_TARGET ?? 'http://127.0.0.1:8000'

/** Vant's icon font names a copy on a CDN after its inline woff2: the app loads nothing from elsewhere
 * (the gateway's CSP refuses it, and offline it would fail), so that source is dropped. */
function noRemoteFonts(): Plugin {
  return {
    name: 'yy-no-remote-fonts',
    enforce: 'pre',
    transform(code, id) {
      if (!/[\\/]vant[\\/].*\.css$/.test(id)) return null
      return code.replace(/,\s*url\(\/\/at\.alicdn\.com[^)]*\)\s*format\("woff"\)/g, '')
    },
  }
}

export default defineConfig({
  root: fileURLToPath(new URL('./nurse', import.meta.url)),
  base: '/nurse/',
  plugins: [
    noRemoteFonts(),
    vue(),
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: 'script', // a registerSW.js file: the gateway's CSP allows no inline script
      filename: 'sw.js',
      scope: '/nurse/',
      manifest: {
        name: '医养结合 · 护士上门服务',
        short_name: '上门护理',
        description: '福建省医养结合服务平台护士端：今日工单、签到、服务记录（离线可用）',
        lang: 'zh-CN',
        start_url: '/nurse/',
        scope: '/nurse/',
        display: 'standalone',
        background_color: '#ffffff',
        theme_color: '#1f6feb',
        icons: [
          { src: 'icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: 'icon.svg', sizes: 'any', type: 'image/svg+xml' },
        ],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest}'],
        navigateFallback: '/nurse/index.html',
        navigateFallbackAllowlist: [/^\/nurse(\/|$)/],
        navigateFallbackDenylist: [/^\/api\//],
        cleanupOutdatedCaches: true,
      },
    }),
  ],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  server: {
    host: '127.0.0.1',
    port: 5174,
    proxy: Object.fromEntries(['/api', '/.well-known'].map((path) => [path, { target: API_TARGET, changeOrigin: false }])),
  },
  build: {
    outDir: fileURLToPath(new URL('./dist/nurse', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    manifest: true,
    chunkSizeWarningLimit: 600,
  },
})
