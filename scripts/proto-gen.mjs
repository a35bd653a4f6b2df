// Regenerates the TypeScript for proto/*.proto into proto/gen/ (npm run proto:gen).
// Uses the protoc binary shipped by the `protoc` npm package and the ts-proto plugin,
// so no system protoc is needed. The generated code is committed.
//
// ts-proto options, and why:
// - outputServices=grpc-js: service definitions and clients for @grpc/grpc-js.
// - forceLong=number: int64/uint64 become JS numbers. The only int64 on the hot path
//   is Alert/Log/Message.Timestamp (Unix seconds, far below 2^53); bigint would cost an
//   allocation per event and break JSON.stringify for every consumer. Values that can
//   exceed 2^53 (driver rule ids) are carried as decimal strings in kawin_admin.proto.
//   Decoding an int64 above 2^53 throws instead of silently losing precision.
// - useOptionals=messages: nested messages (Owner, ExecEvent) are optional, scalars
//   always present with proto3 defaults, matching what protobuf puts on the wire.
// - esModuleInterop, importSuffix=.js, env=node: the repo is ESM under NodeNext.
// - useExactTypes=false: fromPartial accepts plain objects without excess checks.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const protoDir = join(root, 'proto');
const outDir = join(protoDir, 'gen');
const plugin = join(root, 'node_modules', '.bin', 'protoc-gen-ts_proto');
const protoc = join(root, 'node_modules', 'protoc', 'protoc.cjs');
const includeDir = join(root, 'node_modules', 'protoc', 'include');

const options = [
  'outputServices=grpc-js',
  'esModuleInterop=true',
  'importSuffix=.js',
  'forceLong=number',
  'useOptionals=messages',
  'env=node',
  'useExactTypes=false',
].join(',');

const files = readdirSync(protoDir).filter((f) => f.endsWith('.proto')).sort();
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const args = [
  protoc,
  `--plugin=protoc-gen-ts_proto=${plugin}`,
  `--ts_proto_out=${outDir}`,
  `--ts_proto_opt=${options}`,
  `-I${protoDir}`,
  `-I${includeDir}`,
  ...files,
];
const r = spawnSync(process.execPath, args, { cwd: protoDir, stdio: 'inherit' });
if (r.status !== 0) {
  console.error(`protoc failed (exit ${r.status})`);
  process.exit(r.status ?? 1);
}
console.log(`generated ${files.join(', ')} -> ${outDir}`);
