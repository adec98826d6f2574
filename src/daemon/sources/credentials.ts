/**
 * Credentials in stream and snapshot URLs (rtsp://user:pass@camera/...) must never reach logs,
 * errors or stats, including ffmpeg's own stderr, which repeats the input URL.
 */

// Greedy up to the last '@' before the first '/' or space: unencoded '@' in passwords is common.
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^\s/]*@/gi;

/** `text` with the user:password@ part of every URL in it removed. */
export function stripCredentials(text: string): string {
  return text.replace(USERINFO, '$1');
}

/**
 * Splits the user info off an HTTP URL: fetch() refuses URLs with credentials, so they travel
 * as a Basic Authorization header instead.
 */
export function basicAuthRequest(url: string): { url: string; headers: Record<string, string> } {
  const parsed = new URL(url);
  if (!parsed.username && !parsed.password) return { url, headers: {} };
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  const token = Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
  return { url: parsed.href, headers: { authorization: `Basic ${token}` } };
}
