// Starts the real platform once for the whole suite — deploy/local/run.py, the script behind `make run`,
// on a fresh data directory with its demo data, the gateway serving the built console (web/dist) — and
// returns the teardown that stops it. It builds nothing: `make e2e` builds the console first.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

import { EXTERNAL_STACK, PORTS } from './stack'

const WEB = resolve(import.meta.dirname, '..')
const REPO = resolve(WEB, '..')
const CONSOLE_DIR = join(WEB, 'dist')
// migrations and the demo province's seeds take about a minute on two idle cores, five and more when the
// machine is shared (load average 20+ measured)
const READY_TIMEOUT_MS = Number(process.env.E2E_READY_TIMEOUT_S ?? '600') * 1000

function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = net.createServer()
    server.once('error', () => done(false))
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)))
  })
}

function logTails(dir: string): string {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.log'))
    .map((name) => `--- ${name}\n${readFileSync(join(dir, name), 'utf8').slice(-3000)}`)
    .join('\n')
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  if (EXTERNAL_STACK) return async () => {}
  if (!existsSync(join(CONSOLE_DIR, 'index.html'))) {
    throw new Error(`控制台尚未构建：${CONSOLE_DIR} 中没有 index.html（先运行 make web-build，或 make e2e）`)
  }
  for (const port of PORTS) {
    if (!(await portFree(Number(port)))) {
      throw new Error(`端口 ${port} 已被占用（另一次浏览器测试在运行？用 E2E_PORTS 指定六个空闲端口）`)
    }
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'yiyang-e2e-'))
  const python = process.env.PYTHON ?? join(REPO, '.venv', 'bin', 'python')
  const args = [
    join(REPO, 'deploy', 'local', 'run.py'),
    '--ports', PORTS.join(','),
    '--data-dir', dataDir,
    '--log-dir', dataDir,
    '--console-dir', CONSOLE_DIR,
    '--no-console-build',
  ]
  // its own process group, so that a failed start can be killed with the six services it started
  // 湖里's residents at 2 %: the demo seeds them in full (~80 s more start-up), which no flow here needs
  const env = { ...process.env, DEMO_RESIDENTS_SCALE: process.env.DEMO_RESIDENTS_SCALE ?? '0.02' }
  const stack = spawn(python, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  const killGroup = (): void => {
    try {
      if (stack.pid !== undefined) process.kill(-stack.pid, 'SIGKILL')
    } catch {
      // the group has already gone
    }
  }
  process.once('exit', killGroup) // the runner itself interrupted: nothing outlives it
  let output = ''
  const exited = new Promise<number | null>((done) => stack.once('exit', (code) => done(code)))
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`平台 ${READY_TIMEOUT_MS / 1000} 秒内未就绪:\n${output}\n${logTails(dataDir)}`)), READY_TIMEOUT_MS)
    const read = (chunk: Buffer): void => {
      output += chunk.toString()
      if (/^READY$/m.test(output)) {
        clearTimeout(timer)
        ready()
      }
    }
    stack.stdout.on('data', read)
    stack.stderr.on('data', read)
    void exited.then((code) => {
      clearTimeout(timer)
      fail(new Error(`deploy/local/run.py 退出 (${code}) 未就绪:\n${output}\n${logTails(dataDir)}`))
    })
  }).catch((error: unknown) => {
    killGroup()
    rmSync(dataDir, { recursive: true, force: true }) // the message carries the logs' tails
    throw error
  })

  return async () => {
    stack.kill('SIGINT') // run.py stops the five services on SIGINT
    const stopped = await Promise.race([exited, new Promise<'timeout'>((done) => setTimeout(() => done('timeout'), 30_000))])
    if (stopped === 'timeout') killGroup()
    rmSync(dataDir, { recursive: true, force: true })
  }
}
