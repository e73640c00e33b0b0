export { runPlugsOnHost, type PlugsOnHostOptions } from './run-on-host.js';
