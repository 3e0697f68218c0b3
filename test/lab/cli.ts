import { labInstall } from './install.js';
try { labInstall(); } catch (e) { console.error((e as Error).message); process.exit(1); }
