// The viewer-request CloudFront Function (runtime cloudfront-js-2.0) that enforces edge tokens: one source, shipped as
// a string. It mirrors verifyEdgeToken in token.ts, reason for reason. Written in the subset the runtime accepts
// (ES 5.1 plus const/let, arrow functions, async/await): no Buffer, no template literals, no network.
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-javascript-runtime-20.html
import {
  EDGE_DENY_HEADER,
  EDGE_KVS_KEY_PREFIX,
  EDGE_KVS_REVOKED_GRANT_PREFIX,
  EDGE_KVS_REVOKED_SUB_PREFIX,
  EDGE_TOKEN_COOKIE,
  EDGE_TOKEN_PARAMETER,
  EDGE_TOKEN_VERSION,
  MAX_EDGE_TOKEN_LENGTH,
  MAX_QUERY_VALUE_COUNT,
  MIN_QUERY_VALUE_COUNT,
  SIGNATURE_COOKIE,
  SIGNATURE_PARAMETER,
  UNCOUNTED_QUERY_PARAMETERS,
} from './token.js'

/** CloudFront refuses function code over 10 KB. */
export const MAX_FUNCTION_CODE_BYTES = 10_240

const BODY = String.raw`
const kvs = cf.kvs();
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64V = {};
for (let i = 0; i < 64; i++) B64V[B64.charAt(i)] = i;

function deny(reason) {
  const headers = { 'cache-control': { value: 'no-store' } };
  headers[DENY_HEADER] = { value: reason };
  return { statusCode: 403, statusDescription: 'Forbidden', headers: headers };
}

// base64url to a binary string: the payload is ASCII JSON.
function decode(text) {
  let out = '', bits = 0, acc = 0;
  for (let i = 0; i < text.length; i++) {
    const v = B64V[text.charAt(i)];
    if (v === undefined) return null;
    acc = ((acc << 6) | v) & 65535;
    bits += 6;
    if (bits >= 8) { bits -= 8; out += String.fromCharCode((acc >> bits) & 255); }
  }
  return out;
}

function b64url(s) {
  return s.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function same(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

function strings(v) {
  if (v === undefined) return true;
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') return false;
  return true;
}

function header(req, name) {
  const h = req.headers[name];
  return h && h.value ? h.value : '';
}

function referrerOk(patterns, allowEmpty, referer) {
  if (referer === '') return allowEmpty;
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@\/?#]*@)?([^:\/?#]+)/i.exec(referer);
  if (!m) return false;
  const host = m[1].toLowerCase();
  for (let i = 0; i < patterns.length; i++) {
    const p = patterns[i];
    if (p.indexOf('*.') === 0 ? host.length > p.length - 1 && host.slice(host.length - p.length + 1) === p.slice(1) : host === p) return true;
  }
  return false;
}

// Bytes of an IPv4 (4) or IPv6 (16) address, null when it is neither.
function addr(t) {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(t)) {
    const b = t.split('.').map(Number);
    for (let i = 0; i < 4; i++) if (b[i] > 255) return null;
    return b;
  }
  if (!/^[0-9a-fA-F:.]{2,45}$/.test(t)) return null;
  let groups = t, tail = [];
  if (t.indexOf('.') >= 0) {
    const c = t.lastIndexOf(':');
    const v4 = addr(t.slice(c + 1));
    if (!v4 || v4.length !== 4) return null;
    tail = [(v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]];
    const prefix = t.slice(0, c + 1);
    groups = prefix.slice(-2) === '::' ? prefix : prefix.slice(0, -1);
  }
  const halves = groups.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const rest = halves.length === 2 && halves[1] !== '' ? halves[1].split(':') : [];
  const all = head.concat(rest);
  for (let i = 0; i < all.length; i++) if (!/^[0-9a-fA-F]{1,4}$/.test(all[i])) return null;
  const fill = 8 - tail.length - head.length - rest.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return null;
  let words = head.map((g) => parseInt(g, 16));
  for (let i = 0; i < fill; i++) words.push(0);
  words = words.concat(rest.map((g) => parseInt(g, 16)), tail);
  const bytes = [];
  for (let i = 0; i < words.length; i++) bytes.push(words[i] >> 8, words[i] & 255);
  return bytes;
}

function inRange(ip, cidr) {
  const slash = cidr.indexOf('/');
  const net = addr(cidr.slice(0, slash)), a = addr(ip);
  if (!net || !a || net.length !== a.length) return false;
  let bits = Number(cidr.slice(slash + 1));
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 255 : (255 << (8 - bits)) & 255;
    if ((net[i] & mask) !== (a[i] & mask)) return false;
  }
  return true;
}

async function read(key) {
  try { return await kvs.get(key); } catch (e) { return null; }
}

// The subject's revocation time; a value that is not JSON with a numeric t revokes every token of the subject.
function revokedAt(v) {
  try { const t = JSON.parse(v).t; return typeof t === 'number' ? t : Infinity; } catch (e) { return Infinity; }
}

// Query values besides the signing parameters; a repeated name counts each value (multiValue holds them all).
function countQuery(qs) {
  const names = Object.keys(qs);
  let n = 0;
  for (let i = 0; i < names.length; i++) {
    if (UNCOUNTED.indexOf(names[i]) < 0) n += qs[names[i]].multiValue ? qs[names[i]].multiValue.length : 1;
  }
  return n;
}

function epoch(n) {
  return typeof n === 'number' && n >= 0 && n <= 9007199254740991 && Math.floor(n) === n;
}

// A player on another origin reads the 403 and its reason instead of a network error.
async function handler(event) {
  const out = await judge(event);
  const origin = out.statusCode === 403 ? header(event.request, 'origin') : '';
  if (origin !== '') {
    out.headers['access-control-allow-origin'] = { value: origin };
    out.headers['access-control-allow-credentials'] = { value: 'true' };
    out.headers['access-control-expose-headers'] = { value: DENY_HEADER };
    out.headers['vary'] = { value: 'Origin' };
  }
  return out;
}

async function judge(event) {
  const req = event.request;
  const q = req.querystring[PARAM], c = req.cookies[COOKIE];
  const token = q && q.value ? q.value : c && c.value ? c.value : '';
  if (token === '') return deny('missing');
  const parts = token.split('.');
  if (token.length > MAX_TOKEN || parts.length !== 3) return deny('malformed');
  if (parts[0] !== VERSION) return deny('version');
  let p;
  try { p = JSON.parse(decode(parts[1])); } catch (e) { return deny('malformed'); }
  const h22 = /^[A-Za-z0-9_-]{22}$/;
  if (!p || typeof p.k !== 'string' || typeof p.g !== 'string' || typeof p.s !== 'string' || !h22.test(p.s) || !epoch(p.i) ||
    typeof p.e !== 'number' || (p.b !== undefined && (typeof p.b !== 'string' || !h22.test(p.b))) ||
    (p.n !== undefined && (typeof p.n !== 'number' || Math.floor(p.n) !== p.n || p.n < MIN_N || p.n > MAX_N)) ||
    !strings(p.r) || !strings(p.ca) || !strings(p.cd) || !strings(p.ip)) {
    return deny('malformed');
  }
  const secret = await read(KEY_PREFIX + p.k);
  if (secret === null) return deny('key');
  const mac = crypto.createHmac('sha256', secret).update(parts[0] + '.' + parts[1]).digest('base64');
  if (!same(b64url(mac), parts[2])) return deny('signature');
  if (p.e <= Math.floor(Date.now() / 1000)) return deny('expired');
  if (p.b !== undefined) {
    const qs = req.querystring[SIG_PARAM], cs = req.cookies[SIG_COOKIE];
    const sig = qs && qs.value ? qs.value : cs && cs.value ? cs.value : '';
    if (sig === '' || b64url(crypto.createHash('sha256').update(sig).digest('base64')).slice(0, 22) !== p.b) return deny('binding');
  }
  if (p.n !== undefined) {
    const u = req.uri.toLowerCase();
    if (countQuery(req.querystring) !== p.n || u.indexOf(PARAM + '=') >= 0 || u.indexOf(PARAM + '%3d') >= 0) return deny('query');
  }
  if (await kvs.exists(GRANT_PREFIX + p.g)) return deny('revoked-grant');
  const rs = await read(SUB_PREFIX + p.s);
  if (rs !== null && p.i <= revokedAt(rs)) return deny('revoked-sub');
  if (p.r !== undefined && !referrerOk(p.r, p.re === 1, header(req, 'referer'))) return deny('referrer');
  const country = header(req, 'cloudfront-viewer-country').toUpperCase();
  if (p.ca !== undefined && p.ca.indexOf(country) < 0) return deny('country');
  if (p.cd !== undefined && p.cd.indexOf(country) >= 0) return deny('country');
  if (p.ip !== undefined) {
    let inside = false;
    for (let i = 0; i < p.ip.length && !inside; i++) inside = inRange(event.viewer.ip, p.ip[i]);
    if (!inside) return deny('ip');
  }
  return req;
}
`

const constants = [
  `const PARAM = '${EDGE_TOKEN_PARAMETER}', COOKIE = '${EDGE_TOKEN_COOKIE}', DENY_HEADER = '${EDGE_DENY_HEADER}';`,
  `const SIG_PARAM = '${SIGNATURE_PARAMETER}', SIG_COOKIE = '${SIGNATURE_COOKIE}';`,
  `const VERSION = '${EDGE_TOKEN_VERSION}', MAX_TOKEN = ${MAX_EDGE_TOKEN_LENGTH};`,
  `const UNCOUNTED = ${JSON.stringify(UNCOUNTED_QUERY_PARAMETERS)}, MIN_N = ${MIN_QUERY_VALUE_COUNT}, MAX_N = ${MAX_QUERY_VALUE_COUNT};`,
  `const KEY_PREFIX = '${EDGE_KVS_KEY_PREFIX}', GRANT_PREFIX = '${EDGE_KVS_REVOKED_GRANT_PREFIX}', SUB_PREFIX = '${EDGE_KVS_REVOKED_SUB_PREFIX}';`,
]

/** The function's code, ready for CreateFunction/UpdateFunction (FunctionCode) with runtime cloudfront-js-2.0. */
export const EDGE_FUNCTION_SOURCE = ["import cf from 'cloudfront';", "import crypto from 'crypto';", ...constants].join('\n') + BODY

/** The runtime the source is written for. */
export const EDGE_FUNCTION_RUNTIME = 'cloudfront-js-2.0'
