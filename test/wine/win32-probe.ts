// Run by Windows node.exe under wine (bundled by msi.test.ts), through the real koffi
// binding: the DOS↔NT translation of kawin's driver client (wine's QueryDosDeviceW), and a
// prepare worker's lowering of its own thread's priority (SetThreadPriority).
import { loadBinding } from '../../driver/win32/index.js';
import { DosPathTranslator, queryDriveMap } from '../../driver/client/paths.js';
import { lowerThreadPriority } from '../../controller/policy/worker-priority.js';

const drives = queryDriveMap(loadBinding());
const translator = new DosPathTranslator(drives);
const dosPath = process.argv[2] ?? 'C:\\Windows\\System32\\cmd.exe';
const ntPath = translator.toDriver(dosPath);
const priority = await lowerThreadPriority();
console.log(JSON.stringify({ drives: Object.fromEntries(drives), ntPath, back: translator.fromDriver(ntPath), priority }));
