export { deiaExpress } from './deia-express.js';
export type { DeiaExpressMiddleware, DeiaExpressOptions, DeiaShutdownOptions } from './types.js';
