/**
 * EventBridge's event pattern matching, for the patterns this stack writes: a field's list of
 * values matches when the event's value (or one element of an array value) is among them; an
 * object matches field by field; `{prefix}` and `{exists}` are understood.
 */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  if (pattern === null || typeof pattern !== 'object') return false;
  if (Array.isArray(pattern)) {
    const values = Array.isArray(event) ? event : [event];
    return pattern.some((allowed) => values.some((value) => matchesValue(allowed, value)));
  }
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return false;
  return Object.entries(pattern).every(([key, nested]) =>
    matchesEventPattern(nested, (event as Record<string, unknown>)[key]),
  );
}

function matchesValue(allowed: unknown, value: unknown): boolean {
  if (allowed !== null && typeof allowed === 'object') {
    const rule = allowed as { prefix?: string; exists?: boolean };
    if (rule.prefix !== undefined) return typeof value === 'string' && value.startsWith(rule.prefix);
    if (rule.exists !== undefined) return (value !== undefined) === rule.exists;
    return false;
  }
  return value !== undefined && allowed === value;
}
