import { controllerSuite } from '../../bot-core/test/controller-suite.js';
import { startController } from '../src/app.js';

controllerSuite('fastify', ({ port, env }) => startController({ port, env }));
