/** Command lines as upstream reports an exec. */

/**
 * The arguments of a Windows command line: everything after the first token (the
 * program, quoted or not), trimmed. Upstream reports an exec as the image path followed
 * by argv[1..], so this is what follows the image in `Resource`.
 */
export function commandLineArguments(commandLine: string): string {
  const line = commandLine.trimStart();
  if (line === '') return '';
  let end: number;
  if (line[0] === '"') {
    const close = line.indexOf('"', 1);
    end = close < 0 ? line.length : close + 1;
  } else {
    const space = line.search(/[ \t]/);
    end = space < 0 ? line.length : space;
  }
  return line.slice(end).trim();
}
