// The scalars the planner and kickstart write: plain when unambiguous, else JSON-quoted
// (a JSON string is a valid YAML double-quoted scalar). These read them back without a YAML
// library; anything else makes them return undefined so the caller can fall back to `yaml`.

/** A scalar as written by the planner's yamlString / kickstart's quote. */
export function scalar(text: string): string | undefined {
  const t = text.trim();
  if (t.startsWith('"')) {
    try {
      const v: unknown = JSON.parse(t);
      return typeof v === 'string' ? v : undefined;
    } catch {
      return undefined;
    }
  }
  if (t.startsWith("'") || t.startsWith('[') || t.startsWith('{') || t.startsWith('|') || t.startsWith('>'))
    return undefined;
  const hash = t.indexOf(' #');
  return hash >= 0 ? t.slice(0, hash).trimEnd() : t;
}

/** A flow list of scalars (`[a, "b c", d]`), as written by the planner's yamlFlow. */
export function flowList(text: string): string[] | undefined {
  const t = text.trim();
  if (!t.startsWith('[') || !t.endsWith(']')) return undefined;
  const out: string[] = [];
  let i = 1;
  const end = t.length - 1;
  while (i < end) {
    while (i < end && t.charCodeAt(i) === 32) i++;
    if (i >= end) break;
    if (t.charCodeAt(i) === 34) {
      // a JSON string: find its closing quote
      let j = i + 1;
      while (j < end) {
        const c = t.charCodeAt(j);
        if (c === 92) j += 2;
        else if (c === 34) break;
        else j++;
      }
      try {
        out.push(JSON.parse(t.slice(i, j + 1)) as string);
      } catch {
        return undefined;
      }
      i = j + 1;
    } else {
      let j = t.indexOf(',', i);
      if (j < 0 || j > end) j = end;
      const item = t.slice(i, j).trim();
      if (item.startsWith('[') || item.startsWith('{') || item.startsWith("'")) return undefined;
      out.push(item);
      i = j;
    }
    while (i < end && t.charCodeAt(i) === 32) i++;
    if (i < end) {
      if (t.charCodeAt(i) !== 44) return undefined;
      i++;
    }
  }
  return out;
}
