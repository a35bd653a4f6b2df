import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startEmulator } from '../../test/emulator.js';
import {
  ACCESS, Decision, EventType, MatchType, NTSTATUS, Posture, REPORT, RuleAction, RuleKind,
} from '../abi/types.js';
import { join } from 'node:path';
import { startEmulatedKernel } from '../emulator/index.js';
import { FakeClock } from '../../controller/clock/index.js';
import type { DriverClient } from './client.js';
import type { HostEvent, HostEventBatch } from './host-event.js';
import { DriverNotLoadedError, PortDisconnectedError } from './errors.js';

const drives = { 'C:': '\\Device\\HarddiskVolume3' };

/** Pulls batches until `enough` says so; returns the events and the drops seen. */
async function collect(it: AsyncIterator<HostEventBatch>, enough: (events: number, dropped: bigint) => boolean) {
  const events: HostEvent[] = [];
  const batches: HostEventBatch[] = [];
  let dropped = 0n;
  while (!enough(events.length, dropped)) {
    const r = await it.next();
    assert.ok(!r.done, 'the stream ended early');
    batches.push(r.value);
    events.push(...r.value.events);
    dropped += r.value.dropped;
  }
  return { events, dropped, batches };
}

async function blockRule(client: DriverClient, dosPath: string): Promise<bigint> {
  const id = 77n;
  const state = await client.getState();
  await client.apply({
    expectedGeneration: state.generation, remove: [],
    add: [{ id, kind: RuleKind.File, action: RuleAction.Block, flags: 0, target: { path: client.paths.toDriver(dosPath), match: MatchType.Exact } }],
  });
  return id;
}

void describe('event stream', () => {
  void it('a blocked open arrives decoded, in host terms (DOS paths, Unix time), with the rule and the status', async (t) => {
    const emu = await startEmulator(t, { drives, userSid: 'S-1-5-21-1' });
    const client = await emu.client();
    const ruleId = await blockRule(client, 'C:\\secret.txt');
    const before = Date.now();
    // What the driver's process tracking knows of the opener and its parent.
    emu.machine.defineProcess({ pid: 900, image: 'C:\\Windows\\explorer.exe', sessionId: 1 });
    emu.machine.defineProcess({
      pid: 1234, parentPid: 900, sessionId: 1, image: 'C:\\Windows\\cmd.exe', userSid: 'S-1-5-21-7-1001', currentDirectory: 'C:\\Users\\me\\',
    });
    emu.machine.simulateFileOpen('C:\\secret.txt', { process: 'C:\\Windows\\cmd.exe', pid: 1234, write: true });
    const it = client.events()[Symbol.asyncIterator]();
    const { events } = await collect(it, (n) => n >= 1);
    const e = events[0]!;
    assert.deepEqual({ ...e, timeMicros: 0, threadId: 0 }, {
      type: EventType.FileOpen, decision: Decision.Block, timeMicros: 0, ruleId, processId: 1234, parentProcessId: 900,
      threadId: 0, status: NTSTATUS.accessDenied, desiredAccess: ACCESS.writeData, sessionId: 1, newProcessId: 0,
      targetPath: 'C:\\secret.txt', imagePath: 'C:\\Windows\\cmd.exe',
      parentImagePath: 'C:\\Windows\\explorer.exe',
      commandLine: '', userSid: 'S-1-5-21-7-1001', currentDirectory: 'C:\\Users\\me\\',
    });
    // An opener the driver does not track: only what the operation itself says.
    emu.machine.simulateFileOpen('C:\\secret.txt', { process: 'C:\\Windows\\cmd.exe', pid: 5555, write: true });
    const [unknown] = (await collect(it, (n) => n >= 1)).events;
    assert.deepEqual([unknown!.parentProcessId, unknown!.parentImagePath, unknown!.sessionId, unknown!.userSid, unknown!.currentDirectory],
      [0, '', 0, 'S-1-5-21-1', '']);
    assert.ok(Math.abs(e.timeMicros / 1000 - before) < 60_000, 'the time is now');
    assert.ok(Number.isInteger(e.timeMicros));
    await it.return!();
  });

  void it('a process creation carries the creator, its parent, the new process and its command line', async (t) => {
    const emu = await startEmulator(t, { drives });
    const client = await emu.client();
    emu.machine.defineProcess({ pid: 4, image: 'C:\\Windows\\System32\\userinit.exe' });
    emu.machine.defineProcess({ pid: 500, parentPid: 4, sessionId: 2, image: 'C:\\Windows\\explorer.exe', currentDirectory: 'C:\\Windows\\' });
    await client.setConfig({ caseFold: true, eventMask: REPORT.unmatchedProcess, processPosture: Posture.Audit, filePosture: Posture.Audit, networkPosture: Posture.Audit, registryPosture: Posture.Audit });
    const d = emu.machine.simulateProcessCreate('C:\\tools\\x.exe', { parent: 'C:\\Windows\\explorer.exe', parentPid: 500, commandLine: 'x.exe --flag "a b"' });
    const it = client.events()[Symbol.asyncIterator]();
    const [e] = (await collect(it, (n) => n >= 1)).events;
    assert.equal(e!.type, EventType.ProcessCreate);
    assert.equal(e!.processId, 500, 'the acting process is the creator');
    assert.equal(e!.newProcessId, d.processId);
    assert.ok(d.processId > 0);
    assert.equal(e!.parentProcessId, 4);
    assert.equal(e!.parentImagePath, 'C:\\Windows\\System32\\userinit.exe');
    assert.equal(e!.sessionId, 2);
    assert.equal(e!.currentDirectory, 'C:\\Windows\\');
    assert.equal(e!.commandLine, 'x.exe --flag "a b"');
    assert.equal(e!.imagePath, 'C:\\Windows\\explorer.exe');
    // The new process is tracked: its own operations name the creator as parent.
    emu.machine.simulateFileOpen('C:\\tools\\data.txt', { process: 'C:\\tools\\x.exe', pid: d.processId });
    await client.setConfig({ caseFold: true, eventMask: REPORT.unmatchedFile, processPosture: Posture.Audit, filePosture: Posture.Audit, networkPosture: Posture.Audit, registryPosture: Posture.Audit });
    emu.machine.simulateFileOpen('C:\\tools\\data.txt', { process: 'C:\\tools\\x.exe', pid: d.processId });
    const [open] = (await collect(it, (n) => n >= 1)).events;
    assert.deepEqual([open!.processId, open!.parentProcessId, open!.parentImagePath, open!.sessionId, open!.currentDirectory],
      [d.processId, 500, 'C:\\Windows\\explorer.exe', 2, 'C:\\Windows\\']);
    await it.return!();
  });

  void it('a fast load arrives in sequence: every gap is exactly the drops reported', async (t) => {
    const emu = await startEmulator(t);
    const client = await emu.client();
    const it = client.events()[Symbol.asyncIterator]();
    const load = emu.machine.generateLoad(20_000);
    const { batches, events, dropped } = await collect(it, (n, d) => BigInt(n) + d >= 20_000n);
    await load;
    let last = 0n;
    for (const b of batches) {
      assert.equal(b.firstSequence, last + 1n + b.dropped, 'sequence continues after the dropped records');
      last = b.firstSequence + BigInt(b.events.length) - 1n;
    }
    assert.equal(BigInt(events.length) + dropped, 20_000n);
    await it.return!();
  });

  void it('messages that arrive while the consumer is busy are handed over as one batch, in sequence', async (t) => {
    const emu = await startEmulator(t, { drives });
    const client = await emu.client();
    await blockRule(client, 'C:\\a.txt');
    const it = client.events()[Symbol.asyncIterator]();
    // One event per port message: each open waits until the reader took the one before.
    for (let i = 0; i < 40; i++) {
      emu.machine.simulateFileOpen('C:\\a.txt', { process: 'C:\\p.exe', pid: 100 + i });
      while ((await client.getState()).ringUsed > 0) await new Promise((r) => setTimeout(r, 1));
    }
    await new Promise((r) => setTimeout(r, 200)); // the consumer is busy elsewhere meanwhile
    const { batches, events } = await collect(it, (n) => n >= 40);
    assert.deepEqual(events.map((e) => e.processId), Array.from({ length: 40 }, (_, i) => 100 + i));
    assert.ok(batches.length <= 3, `40 messages came as ${batches.length} batches (up to 16 messages make one)`);
    assert.equal(batches[0]!.firstSequence, 1n);
    await it.return!();
  });

  void it('the load generator names rules the table holds, each as the decision the driver reports for it', async (t) => {
    const emu = await startEmulator(t, { drives, ringCapacity: 4096 });
    const client = await emu.client();
    const state = await client.getState();
    await client.apply({
      expectedGeneration: state.generation, remove: [],
      add: [
        { id: 10n, kind: RuleKind.File, action: RuleAction.Audit, flags: 0, target: { path: client.paths.toDriver('C:\\data\\'), match: MatchType.Recursive } },
        { id: 20n, kind: RuleKind.Process, action: RuleAction.Block, flags: 0, target: { path: client.paths.toDriver('C:\\Tools\\nc.exe'), match: MatchType.Exact } },
        { id: 30n, kind: RuleKind.File, action: RuleAction.Allow, flags: 0, target: { path: client.paths.toDriver('C:\\ok\\'), match: MatchType.Recursive } },
        { id: 40n, kind: RuleKind.File, action: RuleAction.Block, flags: 0, target: { path: client.paths.toDriver('C:\\logs\\*.log'), match: MatchType.Glob } },
      ],
    });
    const it = client.events()[Symbol.asyncIterator]();
    await emu.machine.generateLoad(30);
    const { events } = await collect(it, (n) => n >= 30);
    assert.deepEqual(events.slice(0, 6).map((e) => e.ruleId), [10n, 20n, 40n, 10n, 20n, 40n], 'the Audit and Block rules in turn, never the Allow one');
    for (const e of events) {
      if (e.ruleId === 10n) {
        assert.equal(e.type, EventType.FileOpen);
        assert.equal(e.decision, Decision.Audit);
        assert.equal(e.status, NTSTATUS.success);
        assert.match(e.targetPath, /^C:\\data\\kawin-load-\d{6}\.dat$/);
      } else if (e.ruleId === 20n) {
        assert.equal(e.type, EventType.ProcessCreate);
        assert.equal(e.decision, Decision.Block);
        assert.equal(e.status, NTSTATUS.accessDenied);
        assert.equal(e.targetPath, 'C:\\Tools\\nc.exe');
      } else {
        assert.equal(e.ruleId, 40n);
        assert.equal(e.targetPath, 'C:\\logs\\x.log', 'the glob, each wildcard read as one character');
        assert.equal(e.decision, Decision.Block);
      }
    }
    await it.return!();
  });

  void it('the load generator with no reportable rule emits unmatched opens (rule 0, Allow)', async (t) => {
    const emu = await startEmulator(t, { drives });
    const client = await emu.client();
    const it = client.events()[Symbol.asyncIterator]();
    await emu.machine.generateLoad(10);
    const { events } = await collect(it, (n) => n >= 10);
    for (const e of events) {
      assert.equal(e.ruleId, 0n);
      assert.equal(e.decision, Decision.Allow);
      assert.match(e.targetPath, /^C:\\kawin-load\\d\d{2}\\file\d{6}\.txt$/);
    }
    await it.return!();
  });

  void it('drops while nobody reads are counted: in the next batch, the observer and GET_STATE', async (t) => {
    const emu = await startEmulator(t, { ringCapacity: 32 });
    let observed = 0n;
    const client = await emu.client({ observer: { eventsDropped: (n) => { observed += n; } } });
    await emu.machine.generateLoad(500);
    const it = client.events()[Symbol.asyncIterator]();
    const { events, dropped, batches } = await collect(it, (n, d) => BigInt(n) + d >= 500n);
    assert.equal(dropped, 468n);
    assert.equal(observed, 468n);
    assert.equal(events.length, 32);
    assert.equal(batches[0]!.firstSequence, 469n, 'the oldest were dropped');
    assert.equal((await client.getState()).eventsDropped, 468n);
    await it.return!();
  });

  void it('reconnects after a driver reload: events resume and drops are reported', async (t) => {
    const emu = await startEmulator(t, { drives, ringCapacity: 16 });
    const transitions: boolean[] = [];
    const errors: Error[] = [];
    const client = await emu.client({
      observer: { portConnected: (c) => transitions.push(c), portError: (e) => errors.push(e) },
      events: { readAheadMessages: 1, reconnectInitialMs: 10 },
    });
    await blockRule(client, 'C:\\a.txt');
    const it = client.events()[Symbol.asyncIterator]();
    emu.machine.simulateFileOpen('C:\\a.txt', { process: 'C:\\p.exe' });
    await collect(it, (n) => n >= 1);
    emu.machine.reload();
    await emu.machine.generateLoad(100); // the reader may take one message: the ring (16) overflows
    const after = await collect(it, (n, d) => BigInt(n) + d >= 100n);
    assert.ok(after.dropped > 0n, 'drops reported');
    assert.equal(BigInt(after.events.length) + after.dropped, 100n);
    assert.deepEqual(transitions.slice(0, 3), [true, false, true]);
    assert.ok(errors[0] instanceof PortDisconnectedError && errors[0].hresult === 0x80070006, 'the loss is reported with its cause');
    await it.return!();
  });

  void it('survives the driver going away and coming back: retries, reconnects, events resume', async (t) => {
    const emu = await startEmulator(t, { drives });
    const errors: Error[] = [];
    const client = await emu.client({ observer: { portError: (e) => errors.push(e) }, events: { reconnectInitialMs: 5, reconnectMaxMs: 20 } });
    const it = client.events()[Symbol.asyncIterator]();
    emu.machine.shutdown();
    while (!errors.some((e) => e instanceof DriverNotLoadedError)) await new Promise((r) => setTimeout(r, 5));
    await startEmulatedKernel({ dir: emu.dir, drives, log: join(emu.dir, 'driverd2.log') });
    await blockRule(client, 'C:\\b.txt'); // the stale device handle is reopened by the read inside
    while (!(await client.getState()).portConnected) await new Promise((r) => setTimeout(r, 5));
    emu.machine.simulateFileOpen('C:\\b.txt', { process: 'C:\\p.exe' });
    const { events } = await collect(it, (n) => n >= 1);
    assert.equal(events[0]!.targetPath, 'C:\\b.txt');
    await it.return!();
  });

  void it('reconnect backoff runs on the injected timers: doubling up to reconnectMaxMs', async (t) => {
    const emu = await startEmulator(t, { drives });
    const clock = new FakeClock();
    const errors: Error[] = [];
    const client = await emu.client({
      observer: { portError: (e) => errors.push(e) }, events: { reconnectInitialMs: 100, reconnectMaxMs: 300 }, timers: clock,
    });
    emu.machine.shutdown();
    client.events(); // connects at once, and fails
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof DriverNotLoadedError);
    for (const delay of [100, 200, 300, 300]) {
      clock.advance(delay - 1);
      const failures: number = errors.length;
      clock.advance(1);
      assert.equal(errors.length, failures + 1, `a retry after ${delay} ms, not before`);
    }
    await client.close();
  });

  void it('close() during a blocked read releases it and ends the pending next()', async (t) => {
    const emu = await startEmulator(t);
    const client = await emu.client();
    const it = client.events()[Symbol.asyncIterator]();
    const pending = it.next();
    while (!(await client.getState()).portConnected) await new Promise((r) => setTimeout(r, 2));
    await client.close();
    assert.deepEqual(await pending, { value: undefined, done: true });
  });

  void it('an aborted signal ends the stream', async (t) => {
    const emu = await startEmulator(t);
    const client = await emu.client();
    const controller = new AbortController();
    const seen: number[] = [];
    const consumer = (async () => {
      for await (const batch of client.events({ signal: controller.signal })) seen.push(batch.events.length);
    })();
    await emu.machine.generateLoad(10);
    while (seen.reduce((a, b) => a + b, 0) < 10) await new Promise((r) => setTimeout(r, 2));
    controller.abort();
    await consumer;
    assert.equal((await client.getState()).portConnected, false, 'port closed');
  });
});
