// Run by Windows node.exe under wine (bundled by msi.test.ts): the DOS↔NT translation of
// kawin's driver client, through the real koffi binding and wine's QueryDosDeviceW.
import { loadBinding } from '../../driver/win32/index.js';
import { DosPathTranslator, queryDriveMap } from '../../driver/client/paths.js';

const drives = queryDriveMap(loadBinding());
const translator = new DosPathTranslator(drives);
const dosPath = process.argv[2] ?? 'C:\\Windows\\System32\\cmd.exe';
const ntPath = translator.toDriver(dosPath);
console.log(JSON.stringify({ drives: Object.fromEntries(drives), ntPath, back: translator.fromDriver(ntPath) }));
