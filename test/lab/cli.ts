// `npm run lab -- install|up|down|status`. Exit status: 0 on success (status: 0 only when everything is up).
import { join } from 'node:path';
import { makeCaptures } from './captures.js';
import { labDown, labInstall, labStatus, labUp, formatStatus } from './lab.js';
import { repoRoot } from './repo-root.js';

const USAGE = `usage: npm run lab -- <command>

  install   apt-get install the missing packages (root; never starts the system services)
  up        start 2 Tomcats, httpd (mod_jk, mod_proxy_ajp, mod_proxy_http) and nginx on 127.0.0.1
  down      stop exactly what \`up\` started
  status    show each component, its pid, ports and memory; exit 0 only if all are up
  captures  regenerate the sample captures in captures/ from the lab (needs tcpdump and tshark;
            brings the lab up if it is not, and down again after)

environment: AJPBENCH_LAB_DIR (run dir, default test/lab/.run), AJPBENCH_LAB_CONFIG (JSON overrides),
  AJPBENCH_LAB_SECRET, AJPBENCH_LAB_WEIGHTS=<t1>,<t2>, AJPBENCH_LAB_HEAP, AJPBENCH_LAB_START_TIMEOUT_MS,
  AJPBENCH_LAB_PORT_OFFSET, AJPBENCH_LAB_PORT_<NAME> (e.g. AJPBENCH_LAB_PORT_TOMCAT1_AJP), AJPBENCH_LAB_KEEP_ON_FAILURE=1`;

async function main(argv: string[]): Promise<number> {
  const log = (line: string): void => console.log(line);
  const [command, ...rest] = argv;
  if (rest.length > 0) {
    console.error(`lab: unexpected arguments: ${rest.join(' ')}\n${USAGE}`);
    return 2;
  }
  switch (command) {
    case 'install':
      labInstall(log);
      return 0;
    case 'up': {
      const state = await labUp({ log });
      console.log(`lab: state in ${state.runDir}/state.json`);
      for (const fe of Object.values(state.frontends)) {
        console.log(`  ${fe.header.padEnd(21)} ${fe.baseUrl}${state.paths.echo}`);
      }
      console.log(`  ${'jkstatus'.padEnd(21)} ${state.jkStatusUrl}`);
      return 0;
    }
    case 'down': {
      const reports = await labDown({ log });
      if (!reports.some((r) => r.result !== 'not-running')) log('lab: nothing was running');
      return 0;
    }
    case 'status': {
      const status = await labStatus();
      console.log(formatStatus(status));
      return status.up ? 0 : 1;
    }
    case 'captures': {
      const wasUp = (await labStatus()).up;
      const state = await labUp({ log });
      try {
        await makeCaptures(state, join(repoRoot(), 'captures'), log);
      } finally {
        if (!wasUp) await labDown({ log });
      }
      return 0;
    }
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`lab: unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
