/**
 * Docker's log stream of a container without a TTY is multiplexed: each frame is an 8-byte header
 * (stream type, 3 zero bytes, big-endian payload length) and the payload. This joins the payloads
 * of stdout and stderr in order. Text without frame headers (a TTY container) is returned as is.
 */
export function demuxLogs(buf: Buffer): string {
  const parts: Buffer[] = [];
  let pos = 0;
  while (pos + 8 <= buf.length) {
    const type = buf[pos];
    if ((type !== 0 && type !== 1 && type !== 2) || buf[pos + 1] !== 0 || buf[pos + 2] !== 0 || buf[pos + 3] !== 0) {
      return parts.length ? Buffer.concat([...parts, buf.subarray(pos)]).toString('utf8') : buf.toString('utf8');
    }
    const len = buf.readUInt32BE(pos + 4);
    parts.push(buf.subarray(pos + 8, pos + 8 + len));
    pos += 8 + len;
  }
  if (pos < buf.length) parts.push(buf.subarray(pos));
  return Buffer.concat(parts).toString('utf8');
}
