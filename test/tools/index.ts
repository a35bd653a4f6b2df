/**
 * Where the tests find the Go-built tools (test/tools/build.mjs). A missing tool is a
 * clear failure naming the command that builds it, never a silent skip.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error: plain ESM script without types
import { toolDir } from './build.mjs';

export function toolBinary(tool: string, binary: string = tool): string {
  const dir = (toolDir as (t: string) => string)(tool);
  const path = join(dir, binary);
  if (!existsSync(join(dir, '.complete')) || !existsSync(path)) {
    throw new Error(`${binary} is not built: run \`node test/tools/build.mjs ${tool}\` (.ci/run does)`);
  }
  return path;
}
