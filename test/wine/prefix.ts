/**
 * A throw-away wine prefix for the Windows tests: Windows 10, a persistent wineserver (so
 * that a stopped service stays stopped between commands, as on a machine), and every
 * Windows program's output sent to files, since node.exe under wine fails with EBADF on a
 * Linux pipe. `wineAvailable()` says why the tests cannot run; in CI that is a failure.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NEEDED = ['wine', 'wineserver', 'wixl', 'msiinfo', 'osslsigncode', 'openssl'];

/** Null when every tool is there, else what is missing. */
export function wineUnavailable(): string | null {
  const missing = NEEDED.filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
  return missing.length ? `missing ${missing.join(', ')} (Debian: apt-get install wine wine64 wixl msitools osslsigncode openssl)` : null;
}

export interface RunResult {
  status: number | null;
  output: string;
}

export class WinePrefix {
  readonly dir: string;
  private readonly env: NodeJS.ProcessEnv;
  private runs = 0;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'kawin-wine-'));
    // No Mono or Gecko installers (they would ask with a dialog); no debug channels.
    this.env = { ...process.env, WINEPREFIX: this.dir, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=', DISPLAY: '' };
  }

  /**
   * wineboot, Windows 10 (node exits 216 on wine's default Windows 7), Windows' 30 s wait
   * for a starting service, then a persistent server.
   */
  init(): void {
    this.must('wine', ['wineboot', '-i'], 180_000);
    this.must('wine', ['winecfg', '/v', 'win10'], 60_000);
    // Wine's SCM gives a starting service process 10 s to connect, Windows 30 s; on a loaded
    // machine node.exe under wine can take longer than 10 s. Wine reads the value as REG_SZ,
    // when services.exe starts (after the wineserver -w below).
    this.must('wine', ['reg', 'add', 'HKLM\\System\\CurrentControlSet\\Control', '/v', 'ServicesPipeTimeout', '/t', 'REG_SZ', '/d', '30000', '/f'], 60_000);
    this.must('wineserver', ['-w'], 120_000);
    this.must('wineserver', ['-p'], 10_000);
  }

  /** Runs a command in the prefix; its output (stdout then stderr) comes back through a file. */
  run(command: string, args: string[], timeoutMs = 120_000): RunResult {
    const out = join(this.dir, `run-${++this.runs}.out`);
    const line = [command, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
    const r = spawnSync('sh', ['-c', `${line} >'${out}' 2>&1 </dev/null`], { env: this.env, timeout: timeoutMs });
    let output = '';
    try { output = readFileSync(out, 'utf8'); } catch { /* nothing written */ }
    return { status: r.status, output: r.error ? `${output}\n(${r.error.message})` : output };
  }

  must(command: string, args: string[], timeoutMs?: number): string {
    const r = this.run(command, args, timeoutMs);
    if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status}:\n${r.output}`);
    return r.output;
  }

  /** The Linux path of `C:\…` in this prefix. */
  drive(windowsPath: string): string {
    return join(this.dir, 'drive_c', windowsPath.replace(/^C:\\/i, '').replaceAll('\\', '/'));
  }

  dispose(): void {
    spawnSync('wineserver', ['-k'], { env: this.env, timeout: 30_000 });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
