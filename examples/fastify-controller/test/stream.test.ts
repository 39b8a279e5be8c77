import { streamSuite } from '../../bot-core/test/stream-suite.js';
import { startController } from '../src/app.js';

streamSuite('fastify', ({ port, env }) => startController({ port, env }));
