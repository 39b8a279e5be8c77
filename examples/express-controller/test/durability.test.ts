import { fileURLToPath } from 'node:url';
import { durabilitySuite, processDurabilitySuite } from '../../bot-core/test/durability-suite.js';
import { startController } from '../src/app.js';

durabilitySuite('express', ({ port, env }) => startController({ port, env }));
processDurabilitySuite('express', fileURLToPath(new URL('..', import.meta.url)));
