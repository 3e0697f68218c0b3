/**
 * `npm run demo`: two stub containers (routes tomcat1 and tomcat2) on loopback, and the bundled
 * sample trace replayed against them for a few seconds through the real `ajpbench replay`
 * command, which prints its summary. No Java, no network beyond 127.0.0.1.
 */
import { fileURLToPath } from 'node:url';
import { StubContainer } from '../load/stub-container.js';
import { main } from './main.js';

const TRACE = fileURLToPath(new URL('../../../captures/lab-mixed.trace.jsonl', import.meta.url));

export async function runDemo(extraArgs: string[] = []): Promise<number> {
  const stub = await StubContainer.start({
    listen: [
      { host: '127.0.0.1', port: 0, route: 'tomcat1', protocol: 'ajp' },
      { host: '127.0.0.1', port: 0, route: 'tomcat2', protocol: 'ajp' },
    ],
    latencyMs: 2,
    jitterMs: 1,
    bodySize: 1024,
  });
  try {
    const targets = stub.listeners.flatMap((l) => ['--target', `ajp://${l.address}`]);
    const args = [
      'replay',
      TRACE,
      ...targets,
      '--rate',
      '300/s',
      '--warmup',
      '1s',
      '--duration',
      '4s',
      '--loop',
      ...extraArgs,
    ];
    process.stderr.write(
      `demo: stub containers ${stub.listeners.map((l) => `ajp://${l.address} (${l.route})`).join(' and ')}\n` +
        `demo: ajpbench ${args.map((a) => (a === TRACE ? 'captures/lab-mixed.trace.jsonl' : a)).join(' ')}\n\n`,
    );
    return await main(args);
  } finally {
    await stub.close();
    process.stderr.write(
      `\ndemo: the stubs served ${stub.stats.requests} requests on ${stub.stats.connections} connections\n`,
    );
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await runDemo(process.argv.slice(2));
}
