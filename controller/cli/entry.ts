/** What bin/kawin.js takes from the compiled build (dist/kawin.js): the dispatcher and the process-wide fatal handler. */
export { main } from './main.js';
export { EXIT_GRACE_MS, processFatal } from './fatal.js';
