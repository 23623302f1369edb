// probe.mjs: calls the exports of probe.wat, transpiled by jco into out/.
// It calls the probe-* exports with the values of jco_test.go's cases, and
// the lift-* exports with the heap images of images.json ({"lift-rec":
// "hex bytes", ...}), and prints as JSON {"probes": {"case": "hex bytes of
// the memory", ...}, "lifts": {"export": value as JSON, ...}}, 64-bit
// integers as strings.
import { readFileSync } from 'node:fs';
import * as p from './out/probe.js';

const pad = Array.from({ length: 16 }, (_, i) => i + 1);

const cases = {
  'string': () => p.probeString('héllo wörld 日本 😀', pad),
  'string empty': () => p.probeString('', pad),
  'string utf16': () => p.probeString16('héllo wörld 日本 😀', pad),
  'string utf16 ascii': () => p.probeString16('hello', pad),
  'strings empty': () => p.probeStrings(['a', '', 'b'], pad),
  'strings': () => p.probeStrings(['a', 'bc', 'ÿ', '😀'], pad),
  'record': () => p.probeRec({ a: 7, b: 'bee', c: new Uint16Array([1, 2, 65535]), d: 2.5, e: '😀' }, pad),
  'record none': () => p.probeRec({ a: 255, b: 'z', c: new Uint16Array([]), d: undefined, e: 'x' }, pad),
  'variant text': () => p.probeVar({ tag: 'text', val: 'hi' }, pad),
  'variant big': () => p.probeVar({ tag: 'big', val: 2n ** 63n + 5n }, pad),
  'variant num': () => p.probeVar({ tag: 'num', val: -1.5 }, pad),
  'variant none': () => p.probeVar({ tag: 'none' }, pad),
  'result ok': () => p.probeRes({ tag: 'ok', val: new Uint8Array([1, 2, 3]) }, pad),
  'result err': () => p.probeRes({ tag: 'err', val: 'blue' }, pad),
  'flags': () => p.probeFlags({ a: true, c: true, i: true }, pad),
  'tuple': () => p.probeTuple([-1, -300, -5n, true, 1.5, -0.25, 2n ** 64n - 1n], pad),
  'options': () => p.probeOpts([['x', 1], undefined, ['yz', 4000000000]], pad),
};

const probes = {};
for (const [name, f] of Object.entries(cases)) {
  p.reset();
  probes[name] = Buffer.from(f()).toString('hex');
}

const camel = (name) => name.replace(/-(.)/g, (_, c) => c.toUpperCase());
const json = (v) => JSON.stringify(v, (_, x) => {
  if (typeof x === 'bigint') return x.toString();
  if (ArrayBuffer.isView(x)) return Array.from(x);
  if (x === undefined) return null;
  return x;
});
const lifts = {};
const images = JSON.parse(readFileSync('images.json', 'utf8'));
for (const [name, image] of Object.entries(images)) {
  p.reset();
  let v;
  try {
    v = p[camel(name)](Buffer.from(image, 'hex'));
  } catch (e) {
    // An export's error result is thrown, its payload in the error.
    v = { thrown: e.payload };
  }
  lifts[name] = JSON.parse(json(v));
}
console.log(JSON.stringify({ probes, lifts }));
