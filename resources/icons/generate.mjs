// Draws icon.svg's shapes into the PNG sizes Linux desktops and electron-builder use
// (resources/icons/<N>x<N>.png), with 4×4 supersampling. No dependencies: `node generate.mjs`.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const SIZES = [16, 32, 48, 64, 128, 256, 512];
const NAVY = [0x1d, 0x2b, 0x4f];
const ORANGE = [0xf3, 0x77, 0x26];
const WHITE = [0xff, 0xff, 0xff];

/** The colour at a point of the 512-unit design, or null outside the icon. */
function shade(x, y) {
  const d = (cx, cy) => Math.hypot(x - cx, y - cy);
  if (d(362, 150) <= 34) return ORANGE;
  if (d(256, 256) <= 56) return WHITE;
  if (Math.abs(d(256, 256) - 150) <= 22) return ORANGE;
  const r = 96;
  const qx = Math.max(16 + r - x, 0, x - (496 - r));
  const qy = Math.max(16 + r - y, 0, y - (496 - r));
  if (x >= 16 && x <= 496 && y >= 16 && y <= 496 && Math.hypot(qx, qy) <= r) return NAVY;
  return null;
}

function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

function png(size) {
  const S = 4;
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let py = 0; py < size; py++) {
    raw[py * (size * 4 + 1)] = 0; // filter: none
    for (let px = 0; px < size; px++) {
      const acc = [0, 0, 0, 0];
      for (let sy = 0; sy < S; sy++) {
        for (let sx = 0; sx < S; sx++) {
          const c = shade(((px + (sx + 0.5) / S) * 512) / size, ((py + (sy + 0.5) / S) * 512) / size);
          if (!c) continue;
          acc[0] += c[0];
          acc[1] += c[1];
          acc[2] += c[2];
          acc[3] += 255;
        }
      }
      const n = acc[3] / 255;
      const o = py * (size * 4 + 1) + 1 + px * 4;
      raw[o] = n ? Math.round(acc[0] / n) : 0;
      raw[o + 1] = n ? Math.round(acc[1] / n) : 0;
      raw[o + 2] = n ? Math.round(acc[2] / n) : 0;
      raw[o + 3] = Math.round(acc[3] / (S * S));
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

for (const size of SIZES) writeFileSync(new URL(`${size}x${size}.png`, import.meta.url), png(size));
