/**
 * Credentials in URLs (mqtt://user:pass@broker, rtsp://user:pass@camera/...) must never reach
 * logs, errors or stats, and most clients want them apart from the URL anyway.
 */

// Greedy up to the last '@' before the first '/' or space: unencoded '@' in passwords is common.
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^\s/]*@/gi;

/** `text` with the user:password@ part of every URL in it removed (also for ffmpeg's stderr, which repeats its input). */
export function stripCredentials(text: string): string {
  return text.replace(USERINFO, '$1');
}

/** One URL with its user info shown as `***@`, so a reader sees credentials were given; works on strings that are not valid URLs too. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]*@/i, '$1***@');
}

/** Removes the user info from `url` (in place) and returns it decoded; empty strings when there is none. */
export function takeCredentials(url: URL): { username: string; password: string } {
  const username = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  return { username, password };
}
