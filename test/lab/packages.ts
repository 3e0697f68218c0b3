// Which Debian packages the lab needs and a fast, process-free way to tell which are missing: one file per package
// that the lab actually uses. Checking files (not dpkg) keeps labMissing() cheap enough to call from every test file.
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface LabPackage {
  /** Debian package name handed to apt-get. */
  name: string;
  /** Files whose presence means the package is usable. */
  files: string[];
  /** Needed to run the lab (false: only for some tests, see `role`). */
  run: boolean;
  /** What a package that is not needed to run the lab is for. */
  role?: 'capture' | 'browser' | 'bench';
}

function onPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

export const APACHE2 = '/usr/sbin/apache2';
export const APACHE_MODULES = '/usr/lib/apache2/modules';
export const NGINX = '/usr/sbin/nginx';
export const CATALINA_HOME = '/usr/share/tomcat10';
/**
 * Pristine copies of Debian's Tomcat conf files. The lab copies web.xml etc. from here rather than from /etc/tomcat10,
 * which an admin may have edited and which is readable only by root and group tomcat.
 */
export const TOMCAT_STOCK_CONF = '/usr/share/tomcat10/etc';

export const LAB_PACKAGES: readonly LabPackage[] = [
  { name: 'apache2', files: [APACHE2, join(APACHE_MODULES, 'mod_proxy_ajp.so')], run: true },
  { name: 'libapache2-mod-jk', files: [join(APACHE_MODULES, 'mod_jk.so')], run: true },
  {
    name: 'tomcat10',
    files: [
      join(CATALINA_HOME, 'bin', 'catalina.sh'),
      join(CATALINA_HOME, 'lib', 'catalina.jar'),
      join(TOMCAT_STOCK_CONF, 'web.xml'),
    ],
    run: true,
  },
  // Jasper compiles JSPs with the Eclipse JDT compiler (tomcat10-jasper.jar's manifest Class-Path names this jar);
  // without it the webapp answers 500. tomcat10 depends on it, but naming it makes a half-removed install visible.
  { name: 'libeclipse-jdt-core-java', files: ['/usr/share/java/eclipse-jdt-core.jar'], run: true },
  { name: 'nginx', files: [NGINX], run: true },
  { name: 'tshark', files: ['/usr/bin/tshark'], run: false, role: 'capture' },
  { name: 'tcpdump', files: ['/usr/bin/tcpdump'], run: false, role: 'capture' },
  // Headless browser for the HTML report test (test/e2e/html-report.test.ts, driven by playwright-core).
  { name: 'chromium', files: ['/usr/bin/chromium'], run: false, role: 'browser' },
  // The load generator's floor in `npm run bench` (requests per CPU-second, throughput): not needed by any test.
  { name: 'wrk', files: ['/usr/bin/wrk'], run: false, role: 'bench' },
];

export interface MissingOptions {
  /** Also report the capture tools (tshark, tcpdump). Default true, matching what `install` installs. */
  includeCapture?: boolean;
  /** Also report the browser (chromium). Default: as includeCapture. */
  includeBrowser?: boolean;
  /** Also report the benchmarks' floors (wrk). Default false: no test needs them. */
  includeBench?: boolean;
}

/** Debian packages the lab needs that are not installed. Empty means `up` can run (and capture, if included). */
export function labMissing(opts: MissingOptions = {}): string[] {
  const includeCapture = opts.includeCapture ?? true;
  const includeBrowser = opts.includeBrowser ?? includeCapture;
  const missing: string[] = [];
  for (const pkg of LAB_PACKAGES) {
    if (pkg.role === 'capture' && !includeCapture) continue;
    if (pkg.role === 'browser' && !includeBrowser) continue;
    // Benchmarks say for themselves when their floor is missing; only `install` asks for them.
    if (pkg.role === 'bench' && opts.includeBench !== true) continue;
    if (!pkg.files.every((file) => existsSync(file))) missing.push(pkg.name);
  }
  // Tomcat needs a JVM; tomcat10 pulls one in, but a JVM removed later would only show up as a failed start.
  if (onPath('java') === undefined && !missing.includes('tomcat10')) missing.push('default-jre-headless');
  return missing;
}
