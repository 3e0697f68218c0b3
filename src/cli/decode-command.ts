/** `ajpbench decode`: a raw AJP byte stream (or hex text) to JSON Lines, one object per frame. */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import {
  DEFAULT_MAX_PACKET_SIZE,
  decodeByteStream,
  errorToJson,
  messageToJson,
  parseHexText,
  type DecodeStreamSummary,
  type Direction,
} from '../protocol/index.js';
import { errnoCode } from '../errors.js';
import { AjpbenchError, ExitCode, runtimeError } from './exit-codes.js';
import { cannotRead, statInput } from './files.js';
import { LineWriter } from './line-writer.js';
import type { RunContext } from './run-context.js';
import { readerWentAway } from './reader-gone.js';
import { checkMaxPacketSizeFlag, parseInteger } from './options.js';

interface DecodeOptions {
  direction: Direction | 'auto';
  hex?: boolean;
  maxPacketSize: number;
  strict?: boolean;
}

export function decodeCommand(ctx: RunContext): Command {
  return decodeDefinition().action(async (file: string, opts: DecodeOptions) => {
    checkMaxPacketSizeFlag(opts.maxPacketSize);
    const out = new LineWriter(process.stdout, 'stdout');
    let summary: DecodeStreamSummary;
    try {
      summary = await decodeByteStream(
        await openInput(file, opts.hex === true),
        { direction: opts.direction, maxPacketSize: opts.maxPacketSize, strict: opts.strict },
        (msg, info) => out.line(JSON.stringify(messageToJson(msg, info))),
        (err) => out.line(JSON.stringify(errorToJson(err))),
        () => out.ready(),
      );
      await out.close();
    } catch (e) {
      // `| head` took what it wanted: a quiet end, as a Unix filter's.
      if (readerWentAway(e)) return;
      if (e instanceof AjpbenchError || errnoCode(e) === undefined) throw e;
      // A read that failed after the file opened (EIO, a directory found only on read).
      throw cannotRead(file, e);
    }
    const empty = summary.bytes === 0 ? ' (the input is empty)' : '';
    process.stderr.write(
      `decode: ${summary.frames} frame(s), ${summary.errors} error(s), ${summary.bytes} byte(s), direction ${summary.direction ?? 'unknown'}${empty}\n`,
    );
    ctx.exitCode = ExitCode.Ok;
  });
}

function decodeDefinition(): Command {
  return new Command('decode')
    .summary('decode a raw AJP13 byte stream into JSON Lines, one object per frame')
    .description(
      'Reads one direction of one AJP connection (a file, or - for stdin) and prints one JSON object per ' +
        'frame: offset, direction, length (bytes on the wire), type, and the decoded fields. Types: ' +
        'forward-request, body, shutdown, ping, cping, send-headers, send-body-chunk, end-response, ' +
        'get-body-chunk, cpong. Body bytes are base64 in "data". A malformed frame prints ' +
        '{"type":"error",...} with its offset and the bytes skipped, and decoding goes on.\n\n' +
        "With one direction only, request body packets are found from the Forward Request's Content-Length, " +
        'and otherwise by their shape: a packet whose first two payload bytes equal its length minus two is ' +
        'a body packet unless it decodes cleanly as a message.',
    )
    .argument('[file]', 'raw bytes (or hex text with --hex); - or nothing reads stdin', '-')
    .addOption(
      new Option('--direction <dir>', 'which side sent the bytes; auto reads the first magic (12 34 or 41 42)')
        .choices(['auto', 'to-container', 'to-web-server'])
        .default('auto'),
    )
    .option(
      '--hex',
      "the input is hex text: pairs of hex digits; spaces, newlines, ':' and ',' between bytes, 0x before a byte and # comments are allowed, any other character is an error",
    )
    .option(
      '--max-packet-size <bytes>',
      'largest packet, header included (8192-65536, as Tomcat packetSize)',
      (v) => parseInteger(v, '--max-packet-size'),
      DEFAULT_MAX_PACKET_SIZE,
    )
    .option('--strict', 'reject what real peers reject (unknown header codes, trailing bytes, missing pad)');
}

/** The input as chunks: a file or stdin as it streams, or the bytes of the hex text. */
async function openInput(file: string, hex: boolean): Promise<AsyncIterable<Buffer> | Buffer[]> {
  // A missing file, a directory, no permission: refused before anything is printed.
  if (file !== '-') statInput(file);
  if (!hex)
    return file === '-' ? (process.stdin as AsyncIterable<Buffer>) : (createReadStream(file) as AsyncIterable<Buffer>);
  let text: string;
  try {
    text = file === '-' ? await readAll(process.stdin) : await readFile(file, 'utf8');
  } catch (e) {
    throw cannotRead(file, e);
  }
  try {
    return [parseHexText(text)];
  } catch (e) {
    throw runtimeError(`${file}: ${(e as Error).message}`, 'AJPBENCH_ERR_INPUT');
  }
}

async function readAll(stream: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c);
  return Buffer.concat(parts).toString('utf8');
}
