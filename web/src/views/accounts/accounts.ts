// Who manages which accounts, as the gateway decides it (services/gateway/accounts/grants.py GRANTABLE:
// each level creates and manages the level below, in its own scope; the server refuses anything else
// with 403 role_not_grantable). The console offers only that role; labels come from the API's `Role`
// enum labels.
import type { components } from '@/api/schema'
import { childrenOf, divisionName, getDivision, PINGTAN_CODE } from '@/regions/divisions'

export type Role = components['schemas']['Role']
export type UserRole = components['schemas']['UserCreate']['role']

const MANAGED: Partial<Record<Role, UserRole>> = {
  province_admin: 'city_admin',
  city_admin: 'county_admin',
  county_admin: 'institution_admin',
  institution_admin: 'institution_staff',
}

/** The role of the accounts `role` creates and manages, or null (no account rights). */
export function managedRole(role: string | null | undefined): UserRole | null {
  return MANAGED[role as Role] ?? null
}

/** What a new account of `role` needs besides its name and password. */
export function placementOf(role: UserRole): 'region' | 'institution' | 'own_institution' | null {
  if (role === 'city_admin' || role === 'county_admin') return 'region'
  if (role === 'institution_admin') return 'institution'
  if (role === 'institution_staff') return 'own_institution'
  return null
}

/** The regions a new city or county admin may be given: the level below the creator's region
 * (province → the ten city-level units incl. 平潭; a city → its counties). */
export function regionChoices(ownRegion: string): { code: string; name: string }[] {
  return childrenOf(ownRegion).map((d) => ({ code: d.code, name: divisionName(d.code) }))
}

/** The `region_code` list filter for the managed accounts when the console is narrowed to `chosen`
 * (undefined: the caller's whole scope). City admins sit at a city-level unit, so a county chosen by the
 * province lists its city's admins; county and institution accounts sit at a county. */
export function listRegion(managed: UserRole | null, chosen: string | undefined): string | undefined {
  if (chosen === undefined || managed !== 'city_admin') return chosen
  if (chosen === PINGTAN_CODE) return chosen
  const division = getDivision(chosen)
  if (division?.level === 'county' && division.parent_code) return division.parent_code
  return chosen
}

const LOWER = 'abcdefghijkmnpqrstuvwxyz'
const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ'
const DIGITS = '23456789'
const SYMBOLS = '@#%+=!?'

function pick(alphabet: string, random: Uint32Array, index: number): string {
  return alphabet[(random[index] ?? 0) % alphabet.length] ?? alphabet[0] ?? ''
}

/** A strong initial password (14 characters, all four classes, no look-alikes) from the browser's
 * CSPRNG, for the administrator to hand over once. */
export function generatePassword(length = 14): string {
  const random = new Uint32Array(length + length)
  crypto.getRandomValues(random)
  const all = LOWER + UPPER + DIGITS + SYMBOLS
  const chars = [pick(LOWER, random, 0), pick(UPPER, random, 1), pick(DIGITS, random, 2), pick(SYMBOLS, random, 3)]
  for (let i = 4; i < length; i += 1) chars.push(pick(all, random, i))
  // shuffle (Fisher–Yates) with the second half of the random values
  for (let i = chars.length - 1; i > 0; i -= 1) {
    const j = (random[length + i] ?? 0) % (i + 1)
    const swap = chars[i] as string
    chars[i] = chars[j] as string
    chars[j] = swap
  }
  return chars.join('')
}
