/** The live figures of a TapRecorder that the metrics monitor reads at scrape time (bytes, open connections, drops). */
import type { TapRecorder } from '../tap-recorder.js';
import type { LiveFigures } from './ajp-metrics.js';

/** Each tap labelled as its events are: the worker name, else the upstream address. */
export function recorderFigures(recorder: TapRecorder): LiveFigures {
  const drops = recorder.dropCounts;
  return {
    taps: recorder.taps.map((t) => ({
      label: t.worker ?? t.upstream,
      open: t.stats.open,
      bytesToContainer: t.stats.bytesToContainer,
      bytesToWebServer: t.stats.bytesToWebServer,
      upstreamFailures: t.stats.upstreamFailures,
      resets: t.stats.resets,
      tracesShed: t.stats.tracesShed,
    })),
    eventsDropped: drops.eventsDropped,
    exchangesDropped: drops.exchangesDropped,
  };
}
