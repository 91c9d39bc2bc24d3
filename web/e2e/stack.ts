// Where the browser suite's stack listens: ports 18500-18504 (gateway … indicators) unless E2E_PORTS
// names five others (two runs on one machine), or E2E_BASE_URL points at a stack already running with
// its demo data (`make run`: http://127.0.0.1:8000), which the suite then neither starts nor stops.
const ports = (process.env.E2E_PORTS ?? '18500,18501,18502,18503,18504').split(',')

export const PORTS: readonly string[] = ports
export const EXTERNAL_STACK: string | undefined = process.env.E2E_BASE_URL
export const GATEWAY: string = EXTERNAL_STACK ?? `http://127.0.0.1:${ports[0] ?? '18500'}`
export const PASSWORD = 'Demo@2026'
