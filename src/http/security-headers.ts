/**
 * The headers @fastify/helmet set with this service's options (helmet's defaults, a CSP for an API
 * that serves no page, DENY framing, no referrer, same-origin resources), plus no-store: answers carry
 * bearer credentials (signed URLs, cookies), so no browser or proxy may keep them. They never change,
 * so they are built once and set with one call per answer, not recomputed by helmet on every request.
 */
export const API_SECURITY_HEADERS = Object.freeze({
  'content-security-policy': "default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'DENY',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
  'cache-control': 'no-store',
})

/**
 * The player redirect's own headers: `<video src>` on any origin follows it (a no-cors load, which
 * CORP same-origin blocks), while the signed URL in its Location is still never cached or leaked.
 */
export const PLAYBACK_REDIRECT_HEADERS = Object.freeze({
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'cross-origin',
})
