const CANDIDATE = /[&*!?<\]}\uFEFF]|\n[%.]/g;
const NODE_START = new Set([...' \t\r\n,[]{}:?-'].map((c) => c.charCodeAt(0)));
export function needsEventParser(text: string): boolean {
  if (text.charCodeAt(0) === 0x25 || text.startsWith('...')) return true;
  CANDIDATE.lastIndex = 0;
  for (let m = CANDIDATE.exec(text); m; m = CANDIDATE.exec(text)) {
    const i = m.index;
    switch (text.charCodeAt(i)) {
      case 0x26: case 0x2a: case 0x21: case 0x3f: // & * ! ?
        if (i === 0 || NODE_START.has(text.charCodeAt(i - 1))) return true;
        break;
      case 0x3c: if (text.charCodeAt(i + 1) === 0x3c) return true; break;
      case 0x5d: case 0x7d: if (colonFollows(text, i + 1)) return true; break;
      case 0x0a: if (text.charCodeAt(i + 1) === 0x25 || text.startsWith('...', i + 1)) return true; break;
      default: return true;
    }
  }
  return false;
}
function colonFollows(text: string, from: number): boolean {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3a) return true;
    if (c === 0x23) { const eol = text.indexOf('\n', i); if (eol < 0) return false; i = eol; }
    else if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
  }
  return false;
}
