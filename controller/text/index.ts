/**
 * Text positions: where an offset into a document falls as a 1-based line and column,
 * for every error message that points into a policy or config file.
 */
export { LineIndex, type TextPosition } from './line-index.js';
