/**
 * Small data structures shared by the driver client and the controller (the driver layer
 * sits below the controller, so what both use lives here).
 */
export { BoundedMap } from './bounded-map.js';
