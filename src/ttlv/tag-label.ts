/** A tag as it appears in error paths. */
export function tagLabel(tag: number): string {
  return `0x${tag.toString(16).padStart(6, '0')}`;
}
