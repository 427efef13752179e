// Cross-language vectors: RFC 9497 (via the Python suite's copy) and the Python cuckoo filter.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

import {
  CuckooFilter,
  FilterFullError,
  blind,
  discover,
  finalize,
  fromBase64,
  toBase64,
} from '../index.js';
import { ristretto255_oprf } from '@noble/curves/ed25519.js';

/** @param {string} path - relative to the repository root */
const readJson = (path) => JSON.parse(readFileSync(new URL(`../../../${path}`, import.meta.url)));
const hex = (text) => Uint8Array.from(Buffer.from(text, 'hex'));
const toHex = (bytes) => Buffer.from(bytes).toString('hex');

const RFC = readJson('tests/unit/identity/oprf_vectors.json');
const CUCKOO = readJson('tests/unit/contacts/cuckoo_vectors.json');

describe('RFC 9497 OPRF(ristretto255, SHA-512), base mode', () => {
  for (const vector of RFC.vectors) {
    it(`${vector.name}: Blind gives BlindedElement`, () => {
      const result = blind(hex(vector.Input), { fixedBlind: hex(vector.Blind) });
      assert.equal(toHex(result.blind), vector.Blind);
      assert.equal(toHex(result.blindedElement), vector.BlindedElement);
    });
    it(`${vector.name}: EvaluationElement finalizes to Output`, () => {
      const output = finalize(hex(vector.Input), hex(vector.Blind), hex(vector.EvaluationElement));
      assert.equal(toHex(output), vector.Output);
    });
    it(`${vector.name}: the server side agrees (skSm from Seed and KeyInfo)`, () => {
      const { secretKey } = ristretto255_oprf.oprf.deriveKeyPair(hex(RFC.Seed), hex(RFC.KeyInfo));
      assert.equal(toHex(secretKey), RFC.skSm);
      const evaluated = ristretto255_oprf.oprf.blindEvaluate(secretKey, hex(vector.BlindedElement));
      assert.equal(toHex(evaluated), vector.EvaluationElement);
    });
  }

  it('refuses invalid evaluated elements', () => {
    const { blind: scalar } = blind('+447700900123');
    for (const { element } of RFC.invalid_elements.vectors) {
      assert.throws(() => finalize('+447700900123', scalar, hex(element)));
    }
    assert.throws(() => finalize('+447700900123', scalar, new Uint8Array(32)));
  });

  it('blinds the UTF-8 bytes of an E.164 number, with a fresh blind each time', () => {
    const a = blind('+447700900123');
    const b = blind('+447700900123');
    assert.notEqual(toHex(a.blindedElement), toHex(b.blindedElement));
    const { secretKey } = ristretto255_oprf.oprf.generateKeyPair();
    const outputs = [a, b].map((item) =>
      finalize(
        '+447700900123',
        item.blind,
        ristretto255_oprf.oprf.blindEvaluate(secretKey, item.blindedElement),
      ),
    );
    const direct = ristretto255_oprf.oprf.evaluate(secretKey, Buffer.from('+447700900123'));
    assert.equal(toHex(outputs[0]), toHex(direct));
    assert.equal(toHex(outputs[1]), toHex(direct));
  });

  it('rejects numbers not in E.164 form, without echoing them', () => {
    for (const bad of ['447700900123', '+44 7700 900123', '+0447700900123', '', '+1234567890123456']) {
      assert.throws(() => blind(bad), (error) => error instanceof TypeError && !error.message.includes(bad || '#'));
    }
  });
});

const member = (i) => {
  const index = Buffer.alloc(4);
  index.writeUInt32LE(i);
  return new Uint8Array(createHash('sha512').update('member').update(index).digest().subarray(0, 8));
};

describe('MKCF cuckoo filter, against the Python implementation', () => {
  const bytes = fromBase64(CUCKOO.filter);

  it('reads the header', () => {
    const filter = CuckooFilter.fromBytes(bytes);
    assert.equal(filter.buckets, CUCKOO.buckets);
    assert.equal(filter.size, CUCKOO.count);
    assert.deepEqual(filter.toBytes(), bytes);
  });

  it('answers every lookup as Python does', () => {
    const filter = CuckooFilter.fromBytes(bytes);
    for (const lookup of CUCKOO.lookups) {
      assert.equal(filter.has(hex(lookup.tag)), lookup.contains, lookup.tag);
    }
  });

  it('finds all 1,000 members', () => {
    const filter = CuckooFilter.fromBytes(bytes);
    for (let i = 0; i < 1000; i++) assert.ok(filter.has(member(i)), `member ${i}`);
  });

  it('builds the same bytes from the same members in the same order (evictions included)', () => {
    const filter = CuckooFilter.empty(CUCKOO.buckets);
    for (let i = 0; i < 1000; i++) assert.ok(filter.add(member(i)));
    assert.equal(toBase64(filter.toBytes()), CUCKOO.filter);
  });

  it('applies a delta to the same bytes', () => {
    const filter = CuckooFilter.fromBytes(bytes);
    filter.applyDelta(CUCKOO.delta.added.map(hex), CUCKOO.delta.removed.map(hex));
    assert.equal(toBase64(filter.toBytes()), CUCKOO.delta.filter);
  });

  it('reports a full filter and leaves a refused item out cleanly', () => {
    const filter = CuckooFilter.empty(2);
    const members = [];
    let i = 0;
    for (; filter.add(member(i)); i++) members.push(member(i));
    const before = filter.toBytes();
    assert.equal(filter.add(member(i)), false);
    assert.deepEqual(filter.toBytes(), before);
    for (const tag of members) assert.ok(filter.has(tag));
    assert.throws(() => filter.applyDelta([member(i)], []), FilterFullError);
  });

  it('removes one copy of a tag', () => {
    const filter = CuckooFilter.empty(5);
    assert.ok(filter.add(member(1)));
    assert.ok(filter.add(member(1)));
    assert.ok(filter.remove(member(1)));
    assert.ok(filter.has(member(1)));
    assert.ok(filter.remove(member(1)));
    assert.equal(filter.has(member(1)), false);
    assert.equal(filter.remove(member(1)), false);
    assert.equal(filter.size, 0);
  });

  it('rejects what is not a filter', () => {
    const patched = (offset, value) => {
      const copy = bytes.slice();
      copy[offset] = value;
      return copy;
    };
    const bad = {
      empty: new Uint8Array(0),
      'short header': bytes.subarray(0, 15),
      magic: patched(0, 0x4e),
      version: patched(4, 2),
      'fingerprint bits': patched(5, 16),
      'slots per bucket': patched(6, 2),
      reserved: patched(7, 1),
      'bucket count': patched(8, bytes[8] + 1),
      'zero buckets': CuckooFilter.empty(1).toBytes().fill(0, 8, 12),
      'item count': patched(12, bytes[12] + 1),
      truncated: bytes.subarray(0, bytes.length - 1),
      'trailing data': Uint8Array.from([...bytes, 0]),
    };
    for (const [what, data] of Object.entries(bad)) {
      assert.throws(() => CuckooFilter.fromBytes(data), RangeError, what);
    }
    assert.throws(() => CuckooFilter.fromBytes(/** @type {any} */ ([1, 2])), TypeError);
  });

  it('takes 8-byte tags only', () => {
    const filter = CuckooFilter.fromBytes(bytes);
    assert.throws(() => filter.has(new Uint8Array(64)), TypeError);
    assert.throws(() => filter.add(new Uint8Array(7)), TypeError);
  });
});

describe('discover', () => {
  const { secretKey } = ristretto255_oprf.oprf.generateKeyPair();
  const numbers = ['+447700900001', '+447700900002', '+447700900003', '+447700900004'];
  const output = (number) => ristretto255_oprf.oprf.evaluate(secretKey, Buffer.from(number));
  const filter = CuckooFilter.empty(8);
  for (const number of [numbers[1], numbers[3], '+447700900999']) {
    filter.add(output(number).subarray(0, 8));
  }
  /** @type {string[][]} */
  const seen = [];
  const evaluate = async (blinded) => {
    seen.push(blinded);
    return blinded.map((b64) => toBase64(ristretto255_oprf.oprf.blindEvaluate(secretKey, fromBase64(b64))));
  };

  it('returns the indexes and outputs of the numbers in the filter', async () => {
    const { matches } = await discover({ numbers, evaluate, filterBytes: filter.toBytes() });
    assert.deepEqual(matches.map((match) => match.index), [1, 3]);
    assert.equal(toHex(matches[0].output), toHex(output(numbers[1])));
    assert.equal(toHex(matches[1].output), toHex(output(numbers[3])));
  });

  it('sends the server only blinded elements', async () => {
    seen.length = 0;
    await discover({ numbers, evaluate, filterBytes: filter });
    assert.equal(seen.length, 1);
    assert.equal(seen[0].length, numbers.length);
    for (const b64 of seen[0]) assert.equal(fromBase64(b64).length, 32);
    const sent = seen[0].join();
    for (const number of numbers) assert.ok(!sent.includes(number.slice(1)));
  });

  it('refuses an answer of the wrong length or with invalid elements', async () => {
    await assert.rejects(
      discover({ numbers, evaluate: async (blinded) => blinded.slice(1), filterBytes: filter }),
    );
    await assert.rejects(
      discover({ numbers, evaluate: async (blinded) => blinded.map(() => toBase64(new Uint8Array(32))), filterBytes: filter }),
    );
  });

  it('names the index of a number that is not in E.164 form', async () => {
    await assert.rejects(
      discover({ numbers: ['+447700900001', '07700 900002'], evaluate, filterBytes: filter }),
      /numbers\[1\]/,
    );
  });
});
