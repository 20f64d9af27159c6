// A named import: the bundle then holds package.json's version alone, not the whole manifest as an
// object in the startup snapshot (scripts/bundle.mjs).
import { version } from '../package.json';

export const VERSION: string = version;
