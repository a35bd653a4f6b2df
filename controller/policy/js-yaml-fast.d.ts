/**
 * Types of the part of js-yaml 4.1.0 (installed as `js-yaml-fast`, see fast-yaml.ts)
 * that kawin uses: @types/js-yaml names the module `js-yaml`, which is js-yaml 5 here.
 */
declare module 'js-yaml-fast' {
  export interface TypeOptions {
    kind: 'scalar' | 'sequence' | 'mapping';
    resolve?: (data: string) => boolean;
    construct?: (data: string) => unknown;
  }
  export class Type {
    constructor(tag: string, options: TypeOptions);
  }
  export class Schema {
    extend(types: { implicit?: Type[]; explicit?: Type[] }): Schema;
  }
  export const FAILSAFE_SCHEMA: Schema;
  export function loadAll(text: string, iterator: null, options: { schema: Schema }): unknown[];
}
