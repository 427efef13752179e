// A line-based JSON bridge to index.js for the Python cross-language tests
// (tests/unit/contacts/test_browser_module.py). Bytes are base64, outputs hex. One request per
// line on stdin, one answer per line on stdout:
//   {"op": "blind", "numbers": [...]}  ->  {"blinds": [...], "blinded": [...]}
//   {"op": "finalize", "numbers": [...], "blinds": [...], "evaluated": [...], "filter"?: b64}
//       ->  {"outputs": [...], "has"?: [...]}
//   {"op": "discover", "numbers": [...], "filter": b64}  ->  {"blinded": [...]}, then reads
//       {"evaluated": [...]} and answers {"matches": [{"index", "output"}]}
// An error is answered as {"error": message} and ends the process with status 1.
import { createInterface } from 'node:readline';

import { CuckooFilter, blind, discover, finalize, fromBase64, toBase64 } from '../index.js';

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const send = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
const hex = (bytes) => Buffer.from(bytes).toString('hex');

async function receive() {
  const { value, done } = await lines.next();
  if (done) throw new Error('stdin closed while a request was expected');
  return JSON.parse(value);
}

const ops = {
  blind({ numbers }) {
    const items = numbers.map((number) => blind(number));
    return {
      blinds: items.map((item) => toBase64(item.blind)),
      blinded: items.map((item) => toBase64(item.blindedElement)),
    };
  },
  finalize({ numbers, blinds, evaluated, filter }) {
    const outputs = numbers.map((number, i) =>
      finalize(number, fromBase64(blinds[i]), fromBase64(evaluated[i])),
    );
    const answer = { outputs: outputs.map(hex) };
    if (filter !== undefined) {
      const cuckoo = CuckooFilter.fromBytes(fromBase64(filter));
      answer.has = outputs.map((output) => cuckoo.has(output.subarray(0, 8)));
    }
    return answer;
  },
  async discover({ numbers, filter }) {
    const evaluate = async (blinded) => {
      send({ blinded });
      return (await receive()).evaluated;
    };
    const { matches } = await discover({ numbers, evaluate, filterBytes: fromBase64(filter) });
    return { matches: matches.map(({ index, output }) => ({ index, output: hex(output) })) };
  },
};

try {
  for (;;) {
    const { value, done } = await lines.next();
    if (done) break;
    const request = JSON.parse(value);
    if (!Object.hasOwn(ops, request.op)) throw new Error(`unknown op ${request.op}`);
    send(await ops[request.op](request));
  }
} catch (error) {
  send({ error: String(error?.message ?? error) });
  process.exitCode = 1;
}
