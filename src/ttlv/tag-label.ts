import { tagName } from './spec/index.js';

/** A tag as it appears in error paths: its normalised name, or 0x54xxxx when unknown. */
export const tagLabel: (tag: number) => string = tagName;
