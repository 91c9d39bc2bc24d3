// The nurse app's numbers in one place (the server's rules are the server's settings; these are the
// phone's own behaviour).

/** Retry of the outbox after a network failure: 2 s, 4 s, 8 s … at most 60 s between attempts. */
export const NURSE_RETRY = { firstDelayMs: 2_000, maxDelayMs: 60_000 } as const

/** Days of assignments loaded and kept for offline use (today and tomorrow). */
export const NURSE_DAYS = 2

/** How often the app asks for news of its orders (cancellations, SOS acknowledgements) while online. */
export const NURSE_POLL_MS = 15_000

/** Photos per visit record (the API takes at most 10) and the size a photo is scaled down to. */
export const NURSE_MAX_PHOTOS = 6
export const NURSE_PHOTO_MAX_SIDE = 1600

/** Characters of the ID number the nurse may type as identity proof at check-in (never the whole number). */
export const NURSE_ID_SUFFIX_LENGTH = 4
