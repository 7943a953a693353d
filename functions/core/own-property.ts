/**
 * A dictionary lookup that finds only the dictionary's own entries: on a plain object,
 * `table['constructor']` or `table['__proto__']` finds what every object inherits. Use it (or a
 * Map) wherever the key may come from outside.
 */
export function ownValue<Value>(table: Readonly<Record<string, Value>>, key: string): Value | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
