/**
 * The Windows build end to end under wine: the MSI's tables, signing, a silent install into
 * a fresh prefix, the service RUNNING and reporting the missing driver through the real
 * koffi Win32 path, DOS↔NT paths from wine's QueryDosDeviceW, service stop and start, an
 * upgrade that keeps the node's config, a refused downgrade, an uninstall that removes the
 * service and the program files but keeps the data, and an install to another INSTALLDIR
 * with the driver INF whose uninstall, asked to remove the data too, leaves nothing.
 * Skips, loudly, only where wine is missing and never in CI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { WinePrefix, wineUnavailable } from './prefix.js';
// @ts-expect-error: plain ESM scripts without types
import { buildMsi } from '../../installer/build-msi.mjs';
// @ts-expect-error: plain ESM scripts without types
import { stage, stageDir } from '../../installer/stage.mjs';
// @ts-expect-error: plain ESM scripts without types
import { signBuild } from '../../installer/sign.mjs';
import { freePort } from '../net.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OLD = '0.0.1';
const NEW = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const APP = 'C:\\Program Files\\kawin';
const KAWIN_JS = `${APP}\\app\\bin\\kawin.js`;
const DATA = 'C:\\ProgramData\\kawin';

function msiTable(msi: string, table: string): string[][] {
  const out = spawnSync('msiinfo', ['export', msi, table], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  return out.stdout.trim().split(/\r?\n/).slice(3).map((line) => line.split('\t'));
}

/** A self-signed code-signing certificate made with openssl, as a CA for verification too. */
function testCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=kawin test signing',
    '-addext', 'extendedKeyUsage=codeSigning', '-keyout', key, '-out', cert], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { cert, key };
}

function verifySignature(file: string, ca: string): string {
  const r = spawnSync('osslsigncode', ['verify', '-CAfile', ca, '-in', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${file}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

async function bundleProbe(prefix: WinePrefix): Promise<string> {
  const dir = prefix.drive('C:\\probe');
  await build({
    entryPoints: [join(ROOT, 'test/wine/win32-probe.ts')], outfile: join(dir, 'probe.mjs'),
    bundle: true, format: 'esm', platform: 'node', target: 'node20', external: ['koffi'], logLevel: 'error',
  });
  cpSync(join(stageDir as string, 'app', 'node_modules'), join(dir, 'node_modules'), { recursive: true });
  return 'C:\\probe\\probe.mjs';
}

const unavailable = wineUnavailable();
const skip = unavailable && process.env.CI !== 'true' ? `SKIPPED, wine tests cannot run here: ${unavailable}` : false;
if (skip) console.error(`\n*** test/wine: ${skip} ***\n`);

void test('the MSI under wine: install, service, driver not loaded, paths, stop/start, upgrade, uninstall', { skip, timeout: 600_000 }, async (t) => {
  if (unavailable) assert.fail(`CI=true and the wine tests cannot run: ${unavailable}`);
  const work = mkdtempSync(join(tmpdir(), 'kawin-msi-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const oldMsi: string = await buildMsi({ version: OLD, out: work });
  await stage({ version: NEW });
  const { cert, key } = testCertificate(work);
  const { msi: newMsi, signed } = await signBuild({ version: NEW, env: { ...process.env, KAWIN_SIGN_CERT: cert, KAWIN_SIGN_KEY: key } }) as { msi: string; signed: string[] };

  await t.test('signing: the MSI and the unsigned executables carry a valid signature', () => {
    assert.ok(signed.some((f) => f.endsWith('koffi.node')), `signed: ${signed.join(', ')}`);
    for (const file of [...signed, newMsi]) assert.match(verifySignature(file, cert), /Signature verification: ok/);
  });

  await t.test('msiinfo: service, upgrade code, per-machine, custom actions, optional driver feature', () => checkTables(newMsi, oldMsi));

  const prefix = new WinePrefix();
  t.after(() => prefix.dispose());
  prefix.init();
  const ports = { grpc: await freePort(), metrics: await freePort() };
  const config = seedConfig(prefix, ports);
  const kawin = (...args: string[]) => prefix.run('wine', [`${APP}\\node.exe`, KAWIN_JS, ...args]);

  await t.test('silent install of the previous version: the service is RUNNING and the seeded config is kept', () => {
    const install = prefix.must('wine', ['msiexec', '/i', `Z:${oldMsi}`, '/qn'], 180_000);
    // What wine lets us check of the ACL: the command init-data ran, and that it succeeded (wine's icacls is a stub).
    assert.ok(install.includes(`icacls ${DATA} /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F /T /C /Q`), install);
    assertRunning(kawin('service', 'status'));
    assert.equal(readFileSync(prefix.drive(`${DATA}\\config.json`), 'utf8'), config, 'a node\'s config.json is never overwritten');
    for (const dir of ['policies', 'state', 'logs']) assert.ok(existsSync(prefix.drive(`${DATA}\\${dir}`)), dir);
  });

  await t.test('the running agent: /healthz answers, /readyz and kawin status say the driver is not loaded', async () => {
    await checkAgent(ports, () => kawin('status', '--config', `${DATA}\\config.json`));
  });

  await t.test('through the koffi binding: DOS↔NT paths (wine\'s QueryDosDeviceW), a worker thread\'s priority lowered (SetThreadPriority)', async () => {
    const probe = await bundleProbe(prefix);
    const r = prefix.run('wine', [`${APP}\\node.exe`, probe, 'C:\\Windows\\System32\\cmd.exe']);
    assert.equal(r.status, 0, r.output);
    const { drives, ntPath, back, priority } = JSON.parse(r.output.trim().split('\n').pop()!) as { drives: Record<string, string>; ntPath: string; back: string; priority: unknown };
    assert.match(drives['C:'] ?? '', /^\\Device\\/, `wine maps C: to an NT device: ${JSON.stringify(drives)}`);
    assert.equal(ntPath, `${drives['C:']}\\Windows\\System32\\cmd.exe`);
    assert.equal(back, 'C:\\Windows\\System32\\cmd.exe');
    assert.deepEqual(priority, { lowered: 'thread priority -1' }, 'THREAD_PRIORITY_BELOW_NORMAL, read back with GetThreadPriority');
  });

  await t.test('service stop and start', () => {
    assert.match(must(kawin('service', 'stop')), /kawin service: STOPPED$/m);
    assert.match(must(kawin('service', 'status')), /kawin service: STOPPED$/m, 'stopped cleanly (exit code 0)');
    assertRunning(kawin('service', 'start'));
  });

  await t.test('upgrade to the new, signed MSI: new program files, the config untouched, the service RUNNING', async () => {
    writeFileSync(prefix.drive(`${DATA}\\policies\\marker.yaml`), '# kept across upgrades\n');
    prefix.must('wine', ['msiexec', '/i', `Z:${newMsi}`, '/qn'], 180_000);
    const app = JSON.parse(readFileSync(prefix.drive(`${APP}\\app\\package.json`), 'utf8')) as { version: string };
    assert.equal(app.version, NEW);
    assert.equal(readFileSync(prefix.drive(`${DATA}\\config.json`), 'utf8'), config);
    assert.ok(existsSync(prefix.drive(`${DATA}\\policies\\marker.yaml`)));
    assertRunning(kawin('service', 'status'));
    await checkAgent(ports, () => kawin('status', '--config', `${DATA}\\config.json`));
  });

  await t.test('the previous MSI over the new install is refused, and changes nothing', () => {
    const downgrade = prefix.run('wine', ['msiexec', '/i', `Z:${oldMsi}`, '/qn'], 180_000);
    assert.notEqual(downgrade.status, 0, `the downgrade was installed:\n${downgrade.output}`);
    const app = JSON.parse(readFileSync(prefix.drive(`${APP}\\app\\package.json`), 'utf8')) as { version: string };
    assert.equal(app.version, NEW);
    assertRunning(kawin('service', 'status'));
  });

  await t.test('uninstall: the service and the program files are gone, config, policies and state stay', () => {
    prefix.must('wine', ['msiexec', '/x', `Z:${newMsi}`, '/qn'], 180_000);
    const query = prefix.run('wine', ['sc', 'query', 'kawin']);
    assert.notEqual(query.status, 0, `the service still exists:\n${query.output}`);
    const left = ['node.exe', 'app'].filter((f) => existsSync(prefix.drive(`${APP}\\${f}`)));
    assert.deepEqual(left, [], `program files left after uninstall: ${left.join(', ')}; processes: ${prefix.run('wine', ['tasklist']).output}`);
    assert.equal(readFileSync(prefix.drive(`${DATA}\\config.json`), 'utf8'), config);
    assert.ok(existsSync(prefix.drive(`${DATA}\\policies\\marker.yaml`)) && existsSync(prefix.drive(`${DATA}\\state`)));
  });

  await t.test('INSTALLDIR and ADDLOCAL=Agent,Driver, then uninstall with KAWIN_REMOVE_DATA=1: nothing is left', () => {
    const dir = 'C:\\kawin-custom';
    const custom = (...args: string[]) => prefix.run('wine', [`${dir}\\node.exe`, `${dir}\\app\\bin\\kawin.js`, ...args]);
    prefix.must('wine', ['msiexec', '/i', `Z:${newMsi}`, '/qn', `INSTALLDIR=${dir}\\`, 'ADDLOCAL=Agent,Driver'], 180_000);
    assert.ok(existsSync(prefix.drive(`${dir}\\driver\\kawin.inf`)), 'the Driver feature installs the INF template');
    assert.ok(!existsSync(prefix.drive(`${APP}\\node.exe`)), `nothing under ${APP}`);
    assertRunning(custom('service', 'status'));
    const refused = custom('service', 'remove-data');
    assert.notEqual(refused.status, 0, refused.output);
    assert.match(refused.output, /the kawin service is RUNNING: stop it first/);
    assert.equal(readFileSync(prefix.drive(`${DATA}\\config.json`), 'utf8'), config, 'nothing removed under the running agent');
    // No INSTALLDIR here: the uninstall finds the program files where they were installed.
    prefix.must('wine', ['msiexec', '/x', `Z:${newMsi}`, '/qn', 'KAWIN_REMOVE_DATA=1'], 180_000);
    assert.ok(!existsSync(prefix.drive(DATA)), 'the data folder is gone');
    const left = existsSync(prefix.drive(dir)) ? readdirSync(prefix.drive(dir), { recursive: true }) : [];
    assert.deepEqual(left, [], `left in ${dir}`);
    const query = prefix.run('wine', ['sc', 'query', 'kawin']);
    assert.notEqual(query.status, 0, `the service still exists:\n${query.output}`);
  });
});

function must(r: { status: number | null; output: string }): string {
  assert.equal(r.status, 0, r.output);
  return r.output;
}

function assertRunning(r: { status: number | null; output: string }): void {
  assert.match(must(r), /kawin service: RUNNING$/m);
}

/** The node's own config, written before the first install, on free ports. */
function seedConfig(prefix: WinePrefix, ports: { grpc: number; metrics: number }): string {
  const text = `${JSON.stringify({
    sources: { files: { enabled: true, paths: ['policies'] }, grpc: { enabled: true } },
    grpc: { address: `127.0.0.1:${ports.grpc}` }, metrics: { enabled: true, address: `127.0.0.1:${ports.metrics}` },
    stateDir: 'state', logging: { level: 'info', file: 'logs/agent.log' },
  }, null, 2)}\n`;
  mkdirSync(prefix.drive(DATA), { recursive: true });
  writeFileSync(prefix.drive(`${DATA}\\config.json`), text);
  return text;
}

async function checkAgent(ports: { metrics: number }, status: () => { status: number | null; output: string }): Promise<void> {
  const base = `http://127.0.0.1:${ports.metrics}`;
  let health: Response | undefined;
  for (let i = 0; i < 60 && !health?.ok; i++) {
    health = await fetch(`${base}/healthz`).catch(() => undefined);
    if (!health?.ok) await new Promise((r) => setTimeout(r, 500));
  }
  assert.equal(health?.status, 200, '/healthz answers');
  const ready = await fetch(`${base}/readyz`);
  assert.equal(ready.status, 503);
  assert.match(await ready.text(), /\[-\]driver driver not connected/);
  const s = status();
  assert.equal(s.status, 1, `kawin status exits 1 when the agent is not ready:\n${s.output}`);
  assert.match(s.output, /driver\s+NOT CONNECTED \(windows\)/);
  assert.match(s.output, /CreateFileW: the kawin driver is not loaded \(Win32 error 2\)/);
  assert.match(s.output, /source\s+files: in sync/);
}

function checkTables(msi: string, oldMsi: string): void {
  const [service] = msiTable(msi, 'ServiceInstall');
  assert.ok(service, 'one ServiceInstall row');
  // ServiceInstall, Name, DisplayName, ServiceType, StartType, ErrorControl, LoadOrderGroup, Dependencies, StartName, Password, Arguments, Component_, Description
  assert.equal(service[1], 'kawin');
  assert.equal(service[3], '16', 'SERVICE_WIN32_OWN_PROCESS');
  assert.equal(service[4], '2', 'automatic start');
  assert.equal(service[8], 'LocalSystem');
  assert.match(service[10] ?? '', /kawin\.js" agent --config "\[CommonAppDataFolder\]kawin\\config\.json"/);
  const control = msiTable(msi, 'ServiceControl')[0]!;
  assert.equal(control[1], 'kawin');
  const props = new Map(msiTable(msi, 'Property').map(([k, v]) => [k!, v!]));
  const oldProps = new Map(msiTable(oldMsi, 'Property').map(([k, v]) => [k!, v!]));
  assert.equal(props.get('ALLUSERS'), '1', 'per-machine');
  assert.equal(props.get('ProductVersion'), NEW);
  assert.equal(oldProps.get('ProductVersion'), OLD);
  assert.equal(props.get('UpgradeCode'), oldProps.get('UpgradeCode'), 'one upgrade code across versions');
  assert.notEqual(props.get('ProductCode'), oldProps.get('ProductCode'));
  assert.equal(props.get('KAWIN_REMOVE_DATA'), '0');
  const upgradeRows = msiTable(msi, 'Upgrade').filter((row) => row[0]?.toLowerCase() === props.get('UpgradeCode')?.toLowerCase());
  assert.deepEqual(upgradeRows.map((row) => row[6]).sort(), ['WIX_DOWNGRADE_DETECTED', 'WIX_UPGRADE_DETECTED'], 'MajorUpgrade rows');
  const actions = msiTable(msi, 'CustomAction').map((row) => `${row[0]} ${row[3]}`);
  for (const verb of ['init-data', 'configure', 'remove-data']) assert.ok(actions.some((a) => a.includes(`service ${verb}`)), `${verb}: ${actions.join(' | ')}`);
  const features = new Map(msiTable(msi, 'Feature').map((row) => [row[0]!, row[5]!]));
  assert.equal(features.get('Agent'), '1');
  assert.equal(features.get('Driver'), '1000', 'the driver INF is an optional feature, off by default');
  const files = msiTable(msi, 'File').map((row) => row[2]);
  for (const name of ['node.exe', 'kawin.js', 'koffi.node', 'config.schema.json', 'kawin.inf']) assert.ok(files.some((f) => f?.split('|').pop() === name), name);
  checkSequence(msi);
}

/**
 * Where each custom action runs. The deferred ones run in this order from the install script,
 * so a misplaced one acts on the wrong state: remove-data before StopServices deleted the
 * running agent's files and failed on its open log (wixl had numbered it 1).
 */
function checkSequence(msi: string): void {
  const at = new Map(msiTable(msi, 'InstallExecuteSequence').map(([action, , sequence]) => [action!, Number(sequence)]));
  const order = (...actions: string[]) => {
    const sequences = actions.map((a) => at.get(a) ?? Number.NaN);
    const sorted = sequences.every((s, i) => i === 0 || s > sequences[i - 1]!);
    assert.ok(sorted, `InstallExecuteSequence: expected ${actions.join(' < ')}, got ${actions.map((a, i) => `${a}=${sequences[i]}`).join(', ')}`);
  };
  order('InstallValidate', 'RemoveExistingProducts', 'InstallInitialize');
  order('StopServices', 'WaitServiceStopped', 'DeleteServices', 'RemoveDataDir', 'RemoveFiles');
  order('InstallFiles', 'InitDataDir', 'InstallServices', 'ConfigureService', 'StartServices');
}
