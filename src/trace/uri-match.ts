/**
 * URI patterns for `ajpbench filter`: shell-style globs over the request path, and sed-style
 * substitutions (`s#^/old/#/new/#`) that rewrite it. Both compile to RegExps once, up front, so a
 * bad pattern is a usage error before the trace is read.
 */
import { UsageError } from '../errors.js';

/**
 * A glob over a whole URI path: `*` any characters but `/`, `**` any characters, `?` one character
 * but `/`, `[abc]` one of a set; everything else is literal. `/app/*.jsp` matches `/app/echo.jsp`,
 * not `/app/a/echo.jsp`; `/app/**` matches everything under /app/.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        const set = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        re += set.startsWith('!') ? `[^${set.slice(1)}]` : `[${set}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

/** A regular expression given by a user, or a usage error naming the flag. */
export function userRegExp(source: string, flag: string, flags = ''): RegExp {
  try {
    return new RegExp(source, flags);
  } catch (e) {
    throw new UsageError(
      `${flag}: ${JSON.stringify(source)} is not a valid regular expression: ${(e as Error).message}`,
    );
  }
}

export interface Substitution {
  pattern: RegExp;
  /** In String.prototype.replace's syntax ($1, $&); sed's \1 to \9 are accepted and turned into $1 to $9. */
  replacement: string;
}

/**
 * `s<d>pattern<d>replacement<d>[gi]`, any delimiter `<d>` (`s#^/old/#/new/#`, `s|a|b|g`); the pattern is
 * a JavaScript regular expression. A delimiter inside a part is escaped with a backslash.
 */
export function parseSubstitution(expr: string, flag = '--rewrite-uri'): Substitution {
  const bad = (why: string): UsageError =>
    new UsageError(`${flag} takes a substitution such as 's#^/old/#/new/#' (${why}), got ${JSON.stringify(expr)}`);
  if (expr.length < 4 || expr[0] !== 's') throw bad("it starts with 's' and a delimiter");
  const d = expr[1] as string;
  if (/[\sA-Za-z0-9\\]/.test(d)) throw bad('the delimiter is a punctuation character');
  const parts: string[] = [];
  let cur = '';
  for (let i = 2; i < expr.length; i++) {
    const c = expr[i] as string;
    if (c === '\\' && expr[i + 1] === d) {
      cur += d;
      i++;
    } else if (c === d && parts.length < 2) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  if (parts.length !== 2) throw bad('three delimiters');
  const [source, replacement] = parts as [string, string];
  if (!/^[gi]*$/.test(cur)) throw bad(`flags are g and i, not ${JSON.stringify(cur)}`);
  return {
    pattern: userRegExp(source, flag, [...new Set(cur)].join('')),
    replacement: replacement.replace(/\\([1-9])/g, '$$$1'),
  };
}
