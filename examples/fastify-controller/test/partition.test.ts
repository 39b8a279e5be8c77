import { partitionSuite } from '../../bot-core/test/partition-suite.js';
import { startController } from '../src/app.js';

partitionSuite('fastify', ({ port, env }) => startController({ port, env }));
