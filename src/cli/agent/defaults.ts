// The agent's defaults, apart from the modules that parse and render (loaded only by `latch agent`).
export const DEFAULT_WAIT_S = 60;
export const MAX_WAIT_S = 300;
export const DEFAULT_POLL_INTERVAL_S = 5;
export const DEFAULT_MODE = 0o600;
