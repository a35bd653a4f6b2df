const START = new Uint8Array(128);
for (const c of ' \t\r\n,[]{}:?-') START[c.charCodeAt(0)] = 1;
const CLASS = new Uint8Array(128); // 1 quote, 2 open, 3 close, 4 newline, 5 hash
CLASS[0x27] = 1; CLASS[0x22] = 1; CLASS[0x5b] = 2; CLASS[0x7b] = 2; CLASS[0x5d] = 3; CLASS[0x7d] = 3; CLASS[0x0a] = 4; CLASS[0x23] = 5;
export function flowHazard2(text: string): boolean {
  const n = text.length;
  let depth = 0; let topIsMap = false; const stack: boolean[] = []; let last = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    const k = c < 128 ? CLASS[c]! : 0;
    if (k === 0) { if (c !== 0x20) last = c; continue; }
    const prev = i === 0 ? 0x0a : text.charCodeAt(i - 1);
    const atStart = prev < 128 && START[prev] === 1;
    switch (k) {
      case 1: {
        if (!atStart) break;
        const end = quoteEnd(text, i, c);
        if (end < 0) return true;
        i = end; last = c; continue;
      }
      case 2:
        if (!atStart) break;
        if (topIsMap && (last === 0x7b || last === 0x2c)) return true;
        stack.push(topIsMap); topIsMap = c === 0x7b; depth++;
        break;
      case 3:
        if (depth > 0) { depth--; topIsMap = stack.pop()!; }
        break;
      case 4:
        if (depth > 0) return true;
        break;
      case 5:
        if (prev === 0x20 || prev === 0x09 || prev === 0x0a || prev === 0x0d || i === 0) { const eol = text.indexOf('\n', i); if (eol < 0) return false; i = eol - 1; continue; }
        break;
    }
    if (c !== 0x20 && c !== 0x0a) last = c;
  }
  return false;
}
/** Index of the closing quote on the same line; -1 when the scalar continues on another line. */
function quoteEnd(text: string, open: number, quote: number): number {
  const eol = text.indexOf('\n', open);
  const limit = eol < 0 ? text.length : eol;
  for (let i = text.indexOf(quote === 0x27 ? "'" : '"', open + 1); i >= 0 && i < limit; i = text.indexOf(quote === 0x27 ? "'" : '"', i + 1)) {
    if (quote === 0x27) { if (text.charCodeAt(i + 1) === 0x27) { i++; continue; } return i; }
    let slashes = 0; for (let j = i - 1; text.charCodeAt(j) === 0x5c; j--) slashes++;
    if (slashes % 2 === 0) return i;
  }
  return -1;
}
