/** A signal that aborts after `ms`, for take() calls that must not hang a failing test. */
export const within = (ms: number) => AbortSignal.timeout(ms);
