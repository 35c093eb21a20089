// Types for console-build.mjs (plain Node, run before dependencies exist), used by the tests.
type Log = { log?: (line: string) => void };
export const CONSOLE_DIST: string;
export const CHROMIUM: string;
export function ensureConsoleBuilt(options?: Log): boolean;
export function ensureChromium(options?: Log): string;
