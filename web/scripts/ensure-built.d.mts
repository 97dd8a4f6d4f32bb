/** Whether web/dist is missing or older than any file under web/src, web/index.html or web/vite.config.ts. */
export function consoleBuildIsStale(): boolean;
/** Builds web/ with Vite when its build is missing or stale, printing one line to stderr; silent otherwise. */
export function ensureConsoleBuilt(): Promise<void>;
