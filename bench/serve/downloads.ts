// What bench/serve's scripts measure alike: the cached downloads every CI job repeats, and the rate-limit settings
// compared (limits far above what wrk sends, so no 429: only the counting is measured).

/** The three cached downloads, by path (the same path on protodepot and on nginx). */
export const targets = [
  { name: "archive .tar.gz (label main)", path: "/v1/protodepot/es/v1/demo/payments/main.tar.gz" },
  {
    name: "npm tarball",
    path: "/npm/@protodepot/protodepot_es_demo_payments/-/protodepot_es_demo_payments-1.1.1.tgz",
  },
  { name: "Go zip", path: "/go/protodepot.local/protodepot/go/demo/payments/@v/v1.1.1.zip" },
] as const;

/** Rate limits off, counted in memory, and shared through the metadata store (rateLimits.shared). */
export const rateVariants = {
  off: {},
  memory: { PROTODEPOT_RATE_LIMITS_ANONYMOUS: "1000000000", PROTODEPOT_RATE_LIMITS_SHARED: "false" },
  shared: { PROTODEPOT_RATE_LIMITS_ANONYMOUS: "1000000000", PROTODEPOT_RATE_LIMITS_SHARED: "true" },
} as const;

export type RateVariant = keyof typeof rateVariants;
