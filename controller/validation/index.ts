/**
 * JSON-schema validators (ajv), each compiled once per process, at first use. From the
 * TypeScript sources ajv compiles a validator when it is first asked for. The compiled
 * build replaces this module (scripts/build.mjs): there every validator is ajv's
 * standalone code, generated at build time from the same spec, one file per validator
 * loaded at first use — no schema is compiled, and ajv itself is not loaded, at run time.
 * A module that validates with a schema exports its specs as VALIDATORS, and the build
 * lists that module.
 */
import { Ajv, type Options, type ValidateFunction } from 'ajv';

export type { ErrorObject, ValidateFunction } from 'ajv';

export interface ValidatorSpec {
  /** Unique across kawin: names the generated file in the compiled build. */
  name: string;
  /** ajv's options: they shape the validator (errors kept, defaults inserted). */
  options: Options;
  /** The schema, built only where the validator is compiled. */
  schema(): object;
}

const compiled = new Map<string, ValidateFunction>();
/** One ajv per set of options: each instance compiles the meta-schema once. */
const instances = new Map<string, Ajv>();

export function compiledValidator(spec: ValidatorSpec): ValidateFunction {
  let validate = compiled.get(spec.name);
  if (!validate) {
    const key = JSON.stringify(spec.options);
    const ajv = instances.get(key) ?? instances.set(key, new Ajv(spec.options)).get(key)!;
    validate = ajv.compile(spec.schema());
    compiled.set(spec.name, validate);
  }
  return validate;
}
