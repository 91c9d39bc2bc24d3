// Where the browser suite's stack listens: ports 18500-18505 (gateway … indicators, residents) unless
// E2E_PORTS names six others or E2E_PORT_BASE the first of six in a row (two runs on one machine), or
// E2E_BASE_URL points at a stack already running with its demo data (`make run`: http://127.0.0.1:8000),
// which the suite then neither starts nor stops.
const base = Number(process.env.E2E_PORT_BASE ?? '18500')
const ports = (process.env.E2E_PORTS ?? [0, 1, 2, 3, 4, 5].map((i) => String(base + i)).join(',')).split(',')

export const PORTS: readonly string[] = ports
export const EXTERNAL_STACK: string | undefined = process.env.E2E_BASE_URL
export const GATEWAY: string = EXTERNAL_STACK ?? `http://127.0.0.1:${ports[0] ?? '18500'}`
export const PASSWORD = 'Demo@2026'
