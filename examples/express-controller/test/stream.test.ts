import { streamSuite } from '../../bot-core/test/stream-suite.js';
import { startController } from '../src/app.js';

streamSuite('express', ({ port, env }) => startController({ port, env }));
