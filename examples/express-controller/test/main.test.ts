import { fileURLToPath } from 'node:url';
import { mainProcessSuite } from '../../bot-core/test/main-suite.js';

mainProcessSuite('express', fileURLToPath(new URL('..', import.meta.url)), 'express-controller');
