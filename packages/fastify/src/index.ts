export { deiaFastify } from './deia-fastify.js';
export type { DeiaFastifyDecoration, DeiaFastifyOptions, DeiaShutdownOptions } from './types.js';
