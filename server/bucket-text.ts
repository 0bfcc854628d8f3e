// The backend's side of a bucket's stored text (lib/bucket-page.ts): how it is deflated, for a
// build (server/snapshot-build.ts) and for a live page (server/app.ts) alike.
import { constants, deflateRawSync } from 'node:zlib';

/**
 * How the backend deflates a bucket's text (lib/bucket-page.ts) at zlib `level`: raw DEFLATE with
 * the fixed Huffman codes. Why: the extension inflates every text of a first sync (~1.4 GB for a
 * million customers) and again on each lookup and scrub, and fflate builds a 32K-entry table for
 * each block's own codes (~30 us, for texts of ~50 KB): fixed codes inflated 2.4x faster in
 * Chromium on this machine (204 MB of bucket texts in 0.69 s against 1.66 s), for ~25% more bytes
 * (a million customers' build 207 -> 261 MB).
 */
export const deflateBucketText = (level: number) => (text: Uint8Array) => deflateRawSync(text, { level, strategy: constants.Z_FIXED });
