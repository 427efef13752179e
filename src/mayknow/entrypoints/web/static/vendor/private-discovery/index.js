// @ts-check
/**
 * Private contact discovery, browser side.
 *
 * The client blinds each phone number with RFC 9497 OPRF (base mode, ristretto255-SHA512),
 * the server evaluates the blinded elements with its key, the client unblinds them into 64-byte
 * outputs and looks up their first 8 bytes in the server's cuckoo filter of the outputs of all
 * discoverable accounts (format MKCF v1, specified in src/mayknow/contacts/cuckoo.py). Only the
 * matches need to be reported; the server never sees a number in the clear.
 *
 * The OPRF is @noble/curves' `ristretto255_oprf.oprf` (pinned in package.json). Its `blind`
 * draws the blind from an injectable random source; `blind(..., {fixedBlind})` uses that hook
 * to reproduce the RFC test vectors and checks that it got exactly the blind it asked for.
 * @module
 */
import { ristretto255_oprf } from '@noble/curves/ed25519.js';

const OPRF = ristretto255_oprf.oprf;
/** The order of ristretto255. */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const E164 = /^\+[1-9][0-9]{1,14}$/;

/**
 * The OPRF input of a number: the UTF-8 bytes of its E.164 form, as the server computes it.
 * @param {string} numberE164 - e.g. "+447700900123"
 * @returns {Uint8Array}
 */
export function encodeNumber(numberE164) {
  if (typeof numberE164 !== 'string' || !E164.test(numberE164)) {
    throw new TypeError('expected a phone number in E.164 form: + and at most 15 digits');
  }
  return new TextEncoder().encode(numberE164);
}

/** @param {string | Uint8Array} input */
function inputBytes(input) {
  if (input instanceof Uint8Array) return input;
  return encodeNumber(input);
}

/** @param {Uint8Array} bytes */
function littleEndianToBigInt(bytes) {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  return value;
}

/**
 * A random source that makes noble's RandomScalar return `scalar`: it maps 48 random bytes
 * (read little-endian) to `bytes mod (L - 1) + 1`, so it is fed `scalar - 1`.
 * @param {Uint8Array} scalar - 32 bytes, little-endian, in [1, L)
 * @returns {(length?: number) => Uint8Array}
 */
function fixedRandom(scalar) {
  const value = littleEndianToBigInt(scalar);
  if (scalar.length !== 32 || value <= 0n || value >= L) {
    throw new RangeError('a fixed blind must be a canonical, non-zero 32-byte scalar');
  }
  return (length = 48) => {
    const out = new Uint8Array(length);
    let rest = value - 1n;
    for (let i = 0; i < length && rest > 0n; i++, rest >>= 8n) out[i] = Number(rest & 0xffn);
    return out;
  };
}

/** @param {Uint8Array} a @param {Uint8Array} b */
function equalBytes(a, b) {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/**
 * Client, step 1: blind a number (or, for test vectors, raw input bytes).
 * @param {string | Uint8Array} input - an E.164 number, or the raw OPRF input bytes
 * @param {{fixedBlind?: Uint8Array}} [options] - `fixedBlind` only to reproduce test vectors
 * @returns {{blind: Uint8Array, blindedElement: Uint8Array}} keep `blind` secret, send
 *   `blindedElement` (32 bytes)
 */
export function blind(input, options = {}) {
  const bytes = inputBytes(input);
  if (options.fixedBlind === undefined) {
    const result = OPRF.blind(bytes);
    return { blind: result.blind, blindedElement: result.blinded };
  }
  const result = OPRF.blind(bytes, fixedRandom(options.fixedBlind));
  if (!equalBytes(result.blind, options.fixedBlind)) {
    throw new Error('this @noble/curves version derives blinds differently; update fixedRandom');
  }
  return { blind: result.blind, blindedElement: result.blinded };
}

/**
 * Client, step 3: unblind the server's answer and hash it with the input.
 * Throws if `evaluatedElement` is not a valid, non-identity ristretto255 encoding.
 * @param {string | Uint8Array} input - the same input that was blinded
 * @param {Uint8Array} blindScalar - `blind` from {@link blind}
 * @param {Uint8Array} evaluatedElement - the server's 32-byte answer
 * @returns {Uint8Array} the 64-byte OPRF output
 */
export function finalize(input, blindScalar, evaluatedElement) {
  return OPRF.finalize(inputBytes(input), blindScalar, evaluatedElement);
}

/** @param {Uint8Array} bytes */
export function toBase64(bytes) {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** @param {string} text */
export function fromBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// The cuckoo filter, format MKCF v1 (the Python module's docstring is the specification).

const MAGIC = [0x4d, 0x4b, 0x43, 0x46]; // "MKCF"
const HEADER_SIZE = 16;
const TAG_SIZE = 8;
const MAX_BUCKETS = 2 ** 30 - 1;
const MAX_KICKS = 500;

/** An item found no place: download the full filter again. */
export class FilterFullError extends Error {
  constructor() {
    super('the filter is full; download it again');
    this.name = 'FilterFullError';
  }
}

/** @param {number} s */
function xorshift32(s) {
  s ^= s << 13;
  s ^= s >>> 17;
  s ^= s << 5;
  return s >>> 0;
}

/**
 * (fp, i1, i2) of a tag in a filter of m buckets.
 * @param {Uint8Array} tag
 * @param {number} m
 * @returns {[number, number, number]}
 */
function keyOf(tag, m) {
  if (!(tag instanceof Uint8Array) || tag.length !== TAG_SIZE) {
    throw new TypeError('a tag is the first 8 bytes of an OPRF output');
  }
  const low = (tag[0] | (tag[1] << 8) | (tag[2] << 16) | (tag[3] << 24)) >>> 0;
  const fp = tag[5] | (tag[6] << 8) | (tag[7] << 16) || 1;
  const i1 = low % m;
  return [fp, i1, alternate(i1, fp, m)];
}

/** @param {number} bucket @param {number} fp @param {number} m */
function alternate(bucket, fp, m) {
  return ((Math.imul(fp, 0x5bd1e995) >>> 0) % m - bucket + m) % m;
}

export class CuckooFilter {
  /** @param {Uint8Array} bytes - already validated; owned by the filter */
  constructor(bytes) {
    /** @private */
    this.bytes = bytes;
    /** @private */
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /**
   * Read a filter as the server serves it; throws a RangeError that says what is wrong.
   * @param {Uint8Array} data
   * @returns {CuckooFilter}
   */
  static fromBytes(data) {
    if (!(data instanceof Uint8Array)) throw new TypeError('filter bytes must be a Uint8Array');
    if (data.length < HEADER_SIZE) throw new RangeError('cuckoo filter truncated: no header');
    if (!MAGIC.every((byte, i) => data[i] === byte)) {
      throw new RangeError('not a cuckoo filter: bad magic');
    }
    if (data[4] !== 1) throw new RangeError(`unsupported cuckoo filter version ${data[4]}`);
    if (data[5] !== 24 || data[6] !== 4 || data[7] !== 0) {
      throw new RangeError('unsupported cuckoo filter parameters');
    }
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const m = view.getUint32(8, true);
    const count = view.getUint32(12, true);
    if (m < 1 || m > MAX_BUCKETS) throw new RangeError(`bad cuckoo filter bucket count ${m}`);
    const expected = HEADER_SIZE + 12 * m;
    if (data.length !== expected) {
      throw new RangeError(`cuckoo filter has ${data.length} bytes, ${expected} expected`);
    }
    const filter = new CuckooFilter(data.slice());
    if (filter.occupied() !== count) {
      throw new RangeError('cuckoo filter item count does not match its slots');
    }
    return filter;
  }

  /**
   * An empty filter of `buckets` buckets (for tests and tools; clients get theirs from the server).
   * @param {number} buckets
   */
  static empty(buckets) {
    if (!Number.isInteger(buckets) || buckets < 1 || buckets > MAX_BUCKETS) {
      throw new RangeError(`bad cuckoo filter bucket count ${buckets}`);
    }
    const bytes = new Uint8Array(HEADER_SIZE + 12 * buckets);
    bytes.set([...MAGIC, 1, 24, 4, 0]);
    new DataView(bytes.buffer).setUint32(8, buckets, true);
    return new CuckooFilter(bytes);
  }

  /** The bucket count m. */
  get buckets() {
    return this.view.getUint32(8, true);
  }

  /** The number of items. */
  get size() {
    return this.view.getUint32(12, true);
  }

  /** A copy of the filter's bytes, e.g. to keep it after {@link applyDelta}. */
  toBytes() {
    return this.bytes.slice();
  }

  /**
   * Whether `tag` (the first 8 bytes of an OPRF output) may be in the filter; a false "yes" has
   * a probability below 1e-6, a false "no" cannot happen.
   * @param {Uint8Array} tag
   */
  has(tag) {
    const [fp, i1, i2] = keyOf(tag, this.buckets);
    return this.slotOf(i1, fp) >= 0 || this.slotOf(i2, fp) >= 0;
  }

  /**
   * Insert a tag; false (and the filter unchanged) when it finds no place.
   * @param {Uint8Array} tag
   */
  add(tag) {
    const m = this.buckets;
    const [tagFp, i1, i2] = keyOf(tag, m);
    if (this.place(i1, tagFp) || this.place(i2, tagFp)) return true;
    let fp = tagFp;
    let state = (fp ^ Math.imul(i1, 0x9e3779b1) ^ Math.imul(this.size, 0x85ebca6b)) >>> 0 || 1;
    state = xorshift32(state);
    let bucket = state & 1 ? i2 : i1;
    /** @type {[number, number][]} */
    const evicted = [];
    for (let kick = 0; kick < MAX_KICKS; kick++) {
      state = xorshift32(state);
      const slot = 4 * bucket + (state >>> 30);
      const victim = this.get(slot);
      evicted.push([slot, victim]);
      this.set(slot, fp);
      fp = victim;
      bucket = alternate(bucket, fp, m);
      if (this.place(bucket, fp)) return true;
    }
    for (let i = evicted.length - 1; i >= 0; i--) this.set(evicted[i][0], evicted[i][1]);
    return false;
  }

  /**
   * Remove one copy of a tag that was added; false if its fingerprint is in neither bucket.
   * @param {Uint8Array} tag
   */
  remove(tag) {
    const [fp, i1, i2] = keyOf(tag, this.buckets);
    for (const bucket of [i1, i2]) {
      const slot = this.slotOf(bucket, fp);
      if (slot >= 0) {
        this.set(slot, 0);
        this.setSize(this.size - 1);
        return true;
      }
    }
    return false;
  }

  /**
   * Apply an update from the server: removals first, then additions. Throws
   * {@link FilterFullError} when an addition finds no place (the filter is then partly updated:
   * download the full filter again).
   * @param {Iterable<Uint8Array>} added
   * @param {Iterable<Uint8Array>} removed
   */
  applyDelta(added, removed) {
    for (const tag of removed) this.remove(tag);
    for (const tag of added) if (!this.add(tag)) throw new FilterFullError();
  }

  /** @private @param {number} slot */
  get(slot) {
    const o = HEADER_SIZE + 3 * slot;
    const b = this.bytes;
    return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16);
  }

  /** @private @param {number} slot @param {number} fp */
  set(slot, fp) {
    const o = HEADER_SIZE + 3 * slot;
    this.bytes[o] = fp & 0xff;
    this.bytes[o + 1] = (fp >>> 8) & 0xff;
    this.bytes[o + 2] = fp >>> 16;
  }

  /** @private @param {number} count */
  setSize(count) {
    this.view.setUint32(12, count, true);
  }

  /** @private The slot of `bucket` holding `fp`, or -1. @param {number} bucket @param {number} fp */
  slotOf(bucket, fp) {
    for (let slot = 4 * bucket; slot < 4 * bucket + 4; slot++) if (this.get(slot) === fp) return slot;
    return -1;
  }

  /** @private Put `fp` in the first empty slot of `bucket`. @param {number} bucket @param {number} fp */
  place(bucket, fp) {
    const slot = this.slotOf(bucket, 0);
    if (slot < 0) return false;
    this.set(slot, fp);
    this.setSize(this.size + 1);
    return true;
  }

  /** @private */
  occupied() {
    let count = 0;
    const b = this.bytes;
    for (let o = HEADER_SIZE; o < b.length; o += 3) if (b[o] | b[o + 1] | b[o + 2]) count++;
    return count;
  }
}

/**
 * @typedef {object} DiscoverOptions
 * @property {string[]} numbers - the address book's numbers, in E.164 form
 * @property {(blinded: string[]) => Promise<string[]>} evaluate - sends the base64 blinded
 *   elements to the server and resolves to its base64 evaluated elements, in the same order
 * @property {Uint8Array | CuckooFilter} filterBytes - the server's filter (or one already read)
 */

/**
 * Find which numbers belong to discoverable accounts without showing the server any number.
 * @param {DiscoverOptions} options
 * @returns {Promise<{matches: {index: number, output: Uint8Array}[]}>} `index` points into
 *   `numbers`; `output` is that number's OPRF output (what the server's filter holds)
 */
export async function discover({ numbers, evaluate, filterBytes }) {
  const filter =
    filterBytes instanceof CuckooFilter ? filterBytes : CuckooFilter.fromBytes(filterBytes);
  const blinded = numbers.map((number, index) => {
    if (typeof number !== 'string' || !E164.test(number)) {
      throw new TypeError(`numbers[${index}] is not a phone number in E.164 form`);
    }
    return blind(number);
  });
  const evaluated = await evaluate(blinded.map((item) => toBase64(item.blindedElement)));
  if (!Array.isArray(evaluated) || evaluated.length !== numbers.length) {
    throw new Error(`the server answered ${evaluated?.length} elements for ${numbers.length}`);
  }
  const matches = [];
  for (let index = 0; index < numbers.length; index++) {
    const output = finalize(numbers[index], blinded[index].blind, fromBase64(evaluated[index]));
    blinded[index].blind.fill(0);
    if (filter.has(output.subarray(0, TAG_SIZE))) matches.push({ index, output });
  }
  return { matches };
}
