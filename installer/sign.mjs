// `npm run sign [-- --version X.Y.Z]`: Authenticode-signs the Windows build with osslsigncode:
// the unsigned executables of the staged bundle (koffi's koffi.node; node.exe keeps the
// OpenJS Foundation's own signature), then rebuilds the MSI from the signed files and signs
// it. The certificate comes from the environment, never from the repository:
//   KAWIN_SIGN_PKCS12=cert.pfx [KAWIN_SIGN_PASSWORD=…]   or   KAWIN_SIGN_CERT=cert.pem KAWIN_SIGN_KEY=key.pem
//   KAWIN_SIGN_TIMESTAMP=http://timestamp.example  (RFC 3161 server; recommended for release builds)
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildMsi } from './build-msi.mjs';
import { stageDir } from './stage.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

function credentials(env) {
  if (env.KAWIN_SIGN_PKCS12) return ['-pkcs12', env.KAWIN_SIGN_PKCS12, ...(env.KAWIN_SIGN_PASSWORD ? ['-pass', env.KAWIN_SIGN_PASSWORD] : [])];
  if (env.KAWIN_SIGN_CERT && env.KAWIN_SIGN_KEY) return ['-certs', env.KAWIN_SIGN_CERT, '-key', env.KAWIN_SIGN_KEY];
  throw new Error('no signing certificate: set KAWIN_SIGN_PKCS12 (and KAWIN_SIGN_PASSWORD), or KAWIN_SIGN_CERT and KAWIN_SIGN_KEY (docs/windows.md)');
}

/** Signs `file` in place (osslsigncode writes a new file; it replaces the old one only on success). */
export function signFile(file, env = process.env) {
  const timestamp = env.KAWIN_SIGN_TIMESTAMP ? ['-ts', env.KAWIN_SIGN_TIMESTAMP] : [];
  const out = `${file}.signed`;
  const args = ['sign', ...credentials(env), '-h', 'sha256', '-n', 'kawin', '-i', 'https://github.com/kawin', ...timestamp, '-in', file, '-out', out];
  const r = spawnSync('osslsigncode', args, { encoding: 'utf8' });
  if (r.error) throw new Error(`osslsigncode could not run (${r.error.message}): install it (Debian: apt-get install osslsigncode)`);
  if (r.status !== 0) throw new Error(`osslsigncode signing ${file} failed (${r.status}):\n${r.stderr || r.stdout}`);
  renameSync(out, file);
}

/** The staged files that need kawin's signature: executables (.exe, .dll, .node) not already signed. */
export function unsignedExecutables(dir = stageDir) {
  const found = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(exe|dll|node)$/i.test(name) && !isSigned(path)) found.push(path);
    }
  };
  walk(dir);
  return found;
}

function isSigned(file) {
  // "No signature found" is the only outcome that means unsigned; a chain error still means signed.
  const r = spawnSync('osslsigncode', ['verify', '-in', file], { encoding: 'utf8' });
  return !`${r.stdout}${r.stderr}`.includes('No signature found');
}

export async function signBuild({ version, env = process.env }) {
  credentials(env);
  const signed = unsignedExecutables();
  for (const file of signed) signFile(file, env);
  const msi = await buildMsi({ version, restage: false });
  signFile(msi, env);
  return { msi, signed };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { version: { type: 'string' } } });
  const version = values.version ?? JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  const { msi, signed } = await signBuild({ version });
  for (const f of signed) console.log(`sign: ${relative(root, f)}`);
  console.log(`sign: ${relative(root, msi)}`);
}
