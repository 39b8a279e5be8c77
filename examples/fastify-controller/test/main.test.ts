import { fileURLToPath } from 'node:url';
import { mainProcessSuite } from '../../bot-core/test/main-suite.js';

mainProcessSuite('fastify', fileURLToPath(new URL('..', import.meta.url)), 'fastify-controller');
