/**
 * Paths, URLs and regexes as Kong 3.9.3 checks them: a service's path, a route's paths (plain
 * paths must be in the normalized form the router compares requests in; `~` paths must compile
 * both as PCRE and for the Rust router that 3.9's default flavor compiles every route into).
 */

const RFC3986_PATH = /^\/[A-Za-z0-9._~/%:@!$&'()*+,;=-]*$/;
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;

/** services.path and the rate-limiting `path`. */
export function pathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must start with /';
  if (path.includes('//')) return "must not contain '//'";
  if (!RFC3986_PATH.test(path)) return `'${path}' has characters outside RFC 3986's path characters`;
  if (BAD_PERCENT.test(path)) return `'${path}' has a % not followed by two hex digits`;
  return undefined;
}

const RESERVED = new Set("!*'();:@&=+$,/?%#[]");

/**
 * The router's normal form of a path: %XX of an unreserved or other character decoded, of a
 * reserved one upper-cased; `.` and `..` segments resolved; `//` merged.
 */
export function normalizePath(path: string): string {
  let rest = path.replace(/%([0-9A-Fa-f]{2})/g, (triplet, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return RESERVED.has(char) ? triplet.toUpperCase() : char;
  });
  if (!rest.includes('.') && !rest.includes('//')) return rest;
  const output: string[] = [];
  while (rest.length > 0) {
    if (rest === '/.') rest = '/';
    else if (rest === '/..') {
      rest = '/';
      output.pop();
    } else if (rest === '.' || rest === '..') rest = '';
    else if (rest.startsWith('../')) rest = rest.slice(3);
    else if (rest.startsWith('./')) rest = rest.slice(2);
    else if (rest.startsWith('/./')) rest = rest.slice(2);
    else if (rest.startsWith('/../')) {
      rest = rest.slice(3);
      output.pop();
    } else if (rest.startsWith('//')) rest = rest.slice(1);
    else {
      const next = rest.indexOf('/', 1);
      output.push(next === -1 ? rest : rest.slice(0, next));
      rest = next === -1 ? '' : rest.slice(next);
    }
  }
  return output.join('');
}

/** Each element of a route's `paths`. */
export function routePathProblem(path: string): string | undefined {
  if (!path.startsWith('/') && !path.startsWith('~/')) return `'${path}' must start with / (a prefix) or ~/ (a regex)`;
  if (path.includes('//')) return "must not contain '//'";
  if (!path.startsWith('~')) {
    // Only a path made of RFC 3986 characters has its %-escapes checked; any other plain path only needs its normal form.
    if (RFC3986_PATH.test(path) && BAD_PERCENT.test(path)) return `'${path}' has a % not followed by two hex digits`;
    const normalized = normalizePath(path);
    return normalized === path ? undefined : `'${path}' is not in normal form; Kong compares requests with '${normalized}'`;
  }
  const regex = path.slice(1);
  if (!pcreCompiles(regex)) return `'${regex}' is not a valid regex`;
  const rust = rustRouterProblem(regex);
  return rust ? `'${regex}' cannot be compiled by the router: ${rust}` : undefined;
}

/**
 * Whether a regex compiles as PCRE. JavaScript's engine stands in for PCRE here, after turning the
 * PCRE-only forms it does not know (named groups as (?P<…>, atomic groups, possessive quantifiers,
 * inline flags) into equivalents it does: close enough for the regexes a route or an origin uses.
 */
export function pcreCompiles(regex: string): boolean {
  const forJavaScript = regex
    .replace(/\(\?P</g, '(?<')
    .replace(/\(\?>/g, '(?:')
    .replace(/([*+?}])\+/g, '$1')
    .replace(/\(\?[imsx]+\)/g, '');
  try {
    new RegExp(forJavaScript);
    return true;
  } catch {
    return false;
  }
}

/** The regex parts outside character classes and escapes, where the constructs below mean what they say. */
function unescaped(regex: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < regex.length; i++) {
    const char = regex[i]!;
    if (char === '\\') {
      out += inClass ? '' : `\\${regex[i + 1] ?? ''}`;
      i++;
    } else if (inClass) {
      if (char === ']') inClass = false;
    } else if (char === '[') {
      inClass = true;
      out += '[]';
    } else out += char;
  }
  return out;
}

/** What the Rust regex crate refuses that PCRE allows: look-around, back-references, atomic groups, possessive quantifiers. */
function rustRouterProblem(regex: string): string | undefined {
  const plain = unescaped(regex);
  if (/\(\?<?[=!]/.test(plain)) return 'look-around is not supported';
  if (/\\[1-9]|\\k[<{']/.test(plain)) return 'back-references are not supported';
  if (/\(\?>/.test(plain)) return 'atomic groups are not supported';
  if (/[*+?}]\+/.test(plain)) return 'possessive quantifiers are not supported';
  return undefined;
}

/**
 * A URL as Kong reads it: a scheme (any) and a host are required. Kong's URL parser takes
 * `scheme:` then `//authority`; the host is the authority without user info and port.
 */
export function urlProblem(url: string): string | undefined {
  const parsed = parseUrl(url);
  if (!parsed.host) return `'${url}' has no host`;
  if (!parsed.scheme) return `'${url}' has no scheme`;
  return undefined;
}

export function parseUrl(url: string): { scheme?: string; host?: string; port?: string; path?: string } {
  const scheme = /^([A-Za-z0-9][A-Za-z0-9+.-]*):/.exec(url);
  let rest = scheme ? url.slice(scheme[0].length) : url;
  rest = rest.replace(/#.*$/, '').replace(/\?.*$/, '');
  const authority = /^\/\/([^/]*)/.exec(rest);
  const path = authority ? rest.slice(authority[0].length) : rest;
  let host: string | undefined;
  let port: string | undefined;
  if (authority) {
    const hostPort = authority[1]!.replace(/^[^@]*@/, '');
    const withPort = /^(.*):([^:\]]*)$/.exec(hostPort);
    const name = withPort ? withPort[1]! : hostPort;
    port = withPort?.[2];
    if (name !== '') host = /^\[(.+)\]$/.exec(name)?.[1] ?? name;
  }
  return { scheme: scheme?.[1], host, port, path: path === '' ? undefined : path };
}
