import { fileURLToPath } from 'node:url';
import { outageProcessSuite } from '../../bot-core/test/outage-suite.js';

outageProcessSuite('express', fileURLToPath(new URL('..', import.meta.url)));
