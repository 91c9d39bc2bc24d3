import { fileURLToPath, URL } from 'node:url'

import vue from '@vitejs/plugin-vue'
import AutoImport from 'unplugin-auto-import/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import Components from 'unplugin-vue-components/vite'
import { defineConfig } from 'vitest/config'

// The API stack (`make run`) listens on the gateway at :8000; dev mode forwards these paths to it so
// that the browser sees one origin (cookies with SameSite=Strict and Path=/api/v1/auth/session work).
const API_TARGET = process.env.YY_API_TARGET ?? 'http://127.0.0.1:8000'
const proxied = ['/api', '/docs', '/openapi.json', '/.well-known']

export default defineConfig({
  plugins: [
    vue(),
    // Element Plus by name: <el-button> in templates and ElMessage/ElMessageBox/ElNotification/ElLoading
    // in scripts are imported per component, with their styles; Vue's own APIs are imported explicitly.
    // No generated .d.ts (a file every build rewrites, racing between authors): the four script APIs are
    // typed by src/element-plus-globals.d.ts; template components are not type-checked (Element Plus's
    // own types give el-table slot rows as `DefaultRow`, unusable with the generated API types).
    AutoImport({ resolvers: [ElementPlusResolver()], dts: false }),
    Components({ resolvers: [ElementPlusResolver()], dts: false, dirs: [] }),
  ],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: Object.fromEntries(proxied.map((path) => [path, { target: API_TARGET, changeOrigin: false }])),
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: false,
    manifest: true, // dist/.vite/manifest.json, read by scripts/check-budgets.mjs
    chunkSizeWarningLimit: 600,
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            { name: 'vue', test: /node_modules[\\/](@vue|vue|vue-router|pinia)[\\/]/, priority: 30 },
            { name: 'echarts', test: /node_modules[\\/](echarts|zrender|vue-echarts)[\\/]/, priority: 20 },
          ],
        },
      },
    },
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.ts'],
    restoreMocks: true,
  },
})
