// Globals of the pages, for the type check of web/ (tsconfig.json); never loaded by a browser.

interface Window {
  /** The page's client and views, exposed for tests and debugging. */
  __courtside?: Record<string, unknown>;
  /** The /replay page's state, exposed for tests and debugging. */
  replayState?: unknown;
}
