/**
 * How Kong 3.9.3 reads a host (services.host, redis.host, route hosts, SNIs): it decides the kind
 * by exclusion (more than one colon: IPv6; only digits and dots: IPv4; otherwise a name), then
 * parses that kind with an optional port.
 */

type ParsedHost = { kind: 'ipv4' | 'ipv6' | 'name'; port?: number } | { error: string };

const validPort = (text: string | undefined) => (text === undefined ? undefined : Number(text));

function ipv6Groups(text: string): boolean {
  let address = text;
  if (address.startsWith(':')) address = `0${address}`;
  if (address.endsWith(':')) address = `${address}0`;
  if (address.includes('::')) {
    const colons = address.split(':').length - 1;
    address = address.replace('::', `:${'0:'.repeat(Math.max(0, 8 - colons))}`);
  }
  return /^([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}$/.test(address);
}

function parseIpv6(text: string): ParsedHost {
  const bracketed = /^\[([^\]]*)\](.*)$/.exec(text);
  const address = bracketed ? bracketed[1]! : text;
  let port: number | undefined;
  if (bracketed && bracketed[2]) {
    const digits = /^:(\d+)$/.exec(bracketed[2]);
    if (!digits) return { error: 'invalid' };
    port = validPort(digits[1]);
  }
  return ipv6Groups(address) ? { kind: 'ipv6', port } : { error: 'invalid' };
}

function parseIpv4(text: string): ParsedHost {
  const parts = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?::(\d+))?$/.exec(text);
  if (!parts || parts.slice(1, 5).some((octet) => Number(octet) > 255)) return { error: 'invalid' };
  return { kind: 'ipv4', port: validPort(parts[5]) };
}

function parseName(text: string): ParsedHost {
  const withPort = /^(.*):(\d+)$/.exec(text);
  const name = withPort ? withPort[1]! : text;
  if (!/^[A-Za-z0-9._-]+$/.test(name)) return { error: 'invalid' };
  const labels = name.split('.');
  // A fully qualified name may end in a dot; no other label may be empty or end in a dash.
  if (labels.some((label, index) => label.endsWith('-') || (label === '' && index !== labels.length - 1))) return { error: 'invalid' };
  return { kind: 'name', port: validPort(withPort?.[2]) };
}

function parseHost(text: string): ParsedHost {
  if (text.split(':').length - 1 > 1) return parseIpv6(text);
  if (/^[\d.]+$/.test(text.replace(':', ''))) return parseIpv4(text);
  return parseName(text);
}

/** A host without a port: services.host and redis.host. */
export function hostProblem(text: string): string | undefined {
  const parsed = parseHost(text);
  if ('error' in parsed) return `'${text}' is not a host name or IP address`;
  if (parsed.port !== undefined) return `'${text}' must not have a port (the port is its own field)`;
  return undefined;
}

/** A host with an optional port up to 65535: what route hosts allow. */
export function hostWithPortProblem(text: string): string | undefined {
  const parsed = parseHost(text);
  if ('error' in parsed) return `'${text}' is not a host name or IP address`;
  if (parsed.port !== undefined && parsed.port > 65_535) return `'${text}' has a port above 65535`;
  return undefined;
}

/** A TLS server name: a host name, no IP address and no port. */
export function serverNameProblem(text: string): string | undefined {
  const parsed = parseHost(text);
  if ('error' in parsed) return `'${text}' is not a host name`;
  if (parsed.kind !== 'name') return `'${text}' is an IP address, not a server name`;
  if (parsed.port !== undefined) return `'${text}' must not have a port`;
  return undefined;
}

/** A route SNI: a server name whose first or last label may be `*`. */
export function wildcardServerNameProblem(text: string): string | undefined {
  const star = text.indexOf('*');
  if (star !== -1 && star !== 0 && star !== text.length - 1) return `'${text}': a wildcard must be the first or last character`;
  if (text.split('*').length > 2) return `'${text}': at most one wildcard`;
  return serverNameProblem(text.replace('*', 'wildcard'));
}
