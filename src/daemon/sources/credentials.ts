/** HTTP credentials for snapshot URLs. */
import { takeCredentials } from '../../util/url.js';

/**
 * Splits the user info off an HTTP URL: fetch() refuses URLs with credentials, so they travel
 * as a Basic Authorization header instead.
 */
export function basicAuthRequest(url: string): { url: string; headers: Record<string, string> } {
  const parsed = new URL(url);
  if (!parsed.username && !parsed.password) return { url, headers: {} };
  const { username, password } = takeCredentials(parsed);
  const token = Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
  return { url: parsed.href, headers: { authorization: `Basic ${token}` } };
}
