/**
 * Which sites may use a widget: the page's Origin header against the widget's allow-list.
 * Entries are exact origins (`https://shop.example.com`, a port when not the default) or a
 * subdomain wildcard (`https://*.example.com`: any subdomain, not the bare domain).
 */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (!origin) return false;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  // An Origin header is scheme://host[:port] and nothing else.
  if (parsed.origin !== origin.toLowerCase().replace(/\/$/, '')) return false;
  return allowed.some((entry) => {
    const pattern = entry.toLowerCase().replace(/\/$/, '');
    if (!pattern.includes('*')) return pattern === parsed.origin;
    const match = /^(https?):\/\/\*\.([a-z0-9.-]+)(:\d+)?$/.exec(pattern);
    if (!match) return false;
    const [, scheme, domain, port = ''] = match;
    return (
      parsed.protocol === `${scheme}:` &&
      (parsed.port ? `:${parsed.port}` : '') === port &&
      parsed.hostname.endsWith(`.${domain}`)
    );
  });
}
