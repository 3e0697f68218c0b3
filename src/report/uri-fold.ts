/** URI folding moved down to trace/ (the diff engine in verdict/ groups by it too); kept here for report's importers. */
export * from '../trace/uri-fold.js';
