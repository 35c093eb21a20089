/**
 * ICE servers for a visitor's browser, from the control plane's configuration: STUN as is, TURN
 * with time-limited credentials in the TURN REST style (username `expiry:id`, password the
 * base64 HMAC-SHA1 of the username under the TURN server's shared secret, as coturn's
 * `use-auth-secret` checks). Nothing configured: no servers, so on a loopback set-up ICE never
 * waits for an unreachable one.
 */
import { createHmac } from 'node:crypto';
import type { WidgetConfig } from '../../config.ts';

export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

export function iceServers(config: WidgetConfig, who: string, now = Date.now()): IceServer[] {
  const servers: IceServer[] = [];
  if (config.stunUrls.length > 0) servers.push({ urls: config.stunUrls });
  if (config.turnUrls.length > 0 && config.turnSecret) {
    const username = `${Math.floor(now / 1000) + config.turnTtlSeconds}:${who}`;
    const credential = createHmac('sha1', config.turnSecret).update(username).digest('base64');
    servers.push({ urls: config.turnUrls, username, credential });
  }
  return servers;
}
