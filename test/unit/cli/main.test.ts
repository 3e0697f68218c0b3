/** The entry point loads only the subcommand it runs; help and typos still see every command. */
import { describe, expect, it } from 'vitest';
import { commandsFor } from '../../../src/cli/main.js';
import { runCli } from '../../fixtures/run-cli.js';

describe('main: subcommands loaded on demand', () => {
  it('loads only the command named, and all of them for help, --version or a name it does not know', () => {
    expect(commandsFor(['import', 'x.pcap', '-o', 'a.jsonl'])).toEqual(['import']);
    expect(commandsFor(['record', '--help'])).toEqual(['record']);
    const all = commandsFor(['--help']);
    expect(all).toHaveLength(15);
    expect(commandsFor([])).toEqual(all);
    expect(commandsFor(['-V'])).toEqual(all);
    expect(commandsFor(['help', 'import'])).toEqual(all);
    expect(commandsFor(['imprt'])).toEqual(all);
    expect(commandsFor(['toString'])).toEqual(all); // not an inherited property of the table
  });

  it('lists every command in --help, in order', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    const listed = [...r.stdout.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]);
    expect(listed).toEqual([...commandsFor([]), 'help']);
  });

  it('still suggests the command meant by a typo, with exit 2', async () => {
    const r = await runCli(['imprt', 'x.pcap']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'imprt'/);
    expect(r.stderr).toMatch(/Did you mean import\?/);
  });
});
