import { fileURLToPath } from 'node:url';
import { drainSuite } from '../../bot-core/test/drain-suite.js';

drainSuite('fastify', fileURLToPath(new URL('..', import.meta.url)));
