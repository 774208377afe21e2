/**
 * Limits on what a client sends, checked at the edge before anything is stored. JSON.parse accepts any
 * depth but JSON.stringify (and any recursive walk) overflows the stack near 5,000 levels, so a deeply
 * nested header or argument accepted here would poison every later serialisation of it: deliveries,
 * listings, the definitions log. Echoing client input into replies is bounded too, so an error reply is
 * never larger than a few hundred bytes however large the frame that caused it.
 */

/** Levels of nesting allowed in one frame or request body, the document itself counting as one. */
export const MAX_JSON_DEPTH = 32;

/** Whether `value` nests objects or arrays deeper than `limit` levels. Stops at the limit, so a hostile depth costs nothing. */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit <= 0) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (nestsDeeperThan(item, limit - 1)) return true;
    return false;
  }
  for (const key in value) {
    if (nestsDeeperThan((value as Record<string, unknown>)[key], limit - 1)) return true;
  }
  return false;
}

/** Client text quoted in a reply: cut to `max` characters, saying how long it was. */
export function clip(text: string, max = 64): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}
