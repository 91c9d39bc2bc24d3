// The nurse app's numbers in one place (the server's rules are the server's settings; these are the
// phone's own behaviour).

/** Retry of the outbox after a network failure: 2 s, 4 s, 8 s … at most 60 s between attempts. */
export const NURSE_RETRY = { firstDelayMs: 2_000, maxDelayMs: 60_000 } as const

/** Days of assignments loaded and kept for offline use (today and tomorrow). */
export const NURSE_DAYS = 2

/** How often the app asks for news of its orders (cancellations, SOS acknowledgements) while online and
 * the order-event stream is not open (GET /events/feed; with the stream news comes as it happens). */
export const NURSE_POLL_MS = 15_000

/** The order-event stream (GET /events, server-sent events): the `ready` frame must come within
 * `readyTimeoutMs` (else a proxy buffers it: the attempt failed); a connection without a byte for
 * `idleTimeoutMs` is dropped (the server's heartbeat is every 5 s); after `fallbackAfter` failures in a
 * row the app polls the feed, still trying the stream again with the outbox's backoff. */
export const NURSE_STREAM = { readyTimeoutMs: 5_000, idleTimeoutMs: 15_000, fallbackAfter: 2 } as const

/** Photos per visit record (the API takes at most 10) and the size a photo is scaled down to. */
export const NURSE_MAX_PHOTOS = 6
export const NURSE_PHOTO_MAX_SIDE = 1600

/** Characters of the ID number the nurse may type as identity proof at check-in (never the whole number). */
export const NURSE_ID_SUFFIX_LENGTH = 4
