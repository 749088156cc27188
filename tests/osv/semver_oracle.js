'use strict';
// An independent evaluation of OSV records for npm packages, with npm's own SemVer
// implementation (node-semver), written from the OSV specification's pseudocode
// (shared/specs/osv.md, "ranges and events"). The tests compare secscan's Python engine with it.
//
// usage: node semver_oracle.js PATH_TO_NODE_SEMVER < {"records": [...], "queries": [[name, version], ...]}
// prints: {"answers": [[record ids affecting query 0, sorted], ...]}

const fs = require('fs');
const semver = require(process.argv[2]);

// SemVer 2.0.0 plus the two lenient readings secscan documents: node-semver's loose prefix
// (blanks, a leading "v" or "=") and a core of one or two numbers padded with ".0" ("14.0").
function parse(text) {
  const trimmed = text.trim().replace(/^[=v]+/, '').trim();
  let version = semver.parse(trimmed);
  if (version === null) {
    const partial = /^(\d+)(?:\.(\d+))?(?=$|[-+])/.exec(trimmed);
    if (partial !== null) {
      version = semver.parse(`${partial[1]}.${partial[2] === undefined ? 0 : partial[2]}.0${trimmed.slice(partial[0].length)}`);
    }
  }
  return version;
}

const KINDS = ['introduced', 'fixed', 'last_affected', 'limit'];

// One range's events as {kind, version (SemVer or null for "0" / "*")}, or null when unusable.
function events(range) {
  if (!Array.isArray(range.events) || range.events.length === 0) return null;
  const out = [];
  for (const event of range.events) {
    const keys = Object.keys(event || {});
    if (keys.length !== 1 || !KINDS.includes(keys[0]) || typeof event[keys[0]] !== 'string') return null;
    const kind = keys[0];
    const text = event[kind];
    if ((kind === 'introduced' && text === '0') || (kind === 'limit' && text === '*')) {
      out.push({ kind, version: null });
      continue;
    }
    const version = parse(text);
    if (version === null) return null;
    out.push({ kind, version });
  }
  const rank = (e) => (e.version !== null ? 1 : e.kind === 'introduced' ? 0 : 2);
  // Array.prototype.sort is stable: equal versions keep the record's order.
  return out.sort((a, b) => rank(a) - rank(b) || (rank(a) === 1 ? semver.compare(a.version, b.version) : 0));
}

function beforeLimits(v, evts) {
  const limits = evts.filter((e) => e.kind === 'limit');
  return limits.length === 0 || limits.some((e) => e.version === null || semver.lt(v, e.version));
}

function includedInRange(v, evts) {
  if (!beforeLimits(v, evts)) return false;
  let vulnerable = false;
  for (const e of evts) {
    if (e.kind === 'introduced') {
      if (e.version === null || semver.gte(v, e.version)) vulnerable = true;
    } else if (e.kind === 'fixed') {
      if (semver.gte(v, e.version)) vulnerable = false;
    } else if (e.kind === 'last_affected') {
      if (semver.gt(v, e.version)) vulnerable = false;
    }
  }
  return vulnerable;
}

function isVulnerable(record, name, text) {
  const v = parse(text);
  return (record.affected || []).some((affected) => {
    const pkg = affected.package || {};
    if (pkg.ecosystem !== 'npm' || pkg.name !== name) return false;
    const listed = Array.isArray(affected.versions) ? affected.versions : [];
    if (listed.some((x) => typeof x === 'string' && (x === text || (v !== null && parse(x) !== null && semver.eq(parse(x), v))))) {
      return true;
    }
    if (v === null) return false;
    return (affected.ranges || []).some((range) => {
      if (range.type !== 'SEMVER' && range.type !== 'ECOSYSTEM') return false;
      const evts = events(range);
      return evts !== null && includedInRange(v, evts);
    });
  });
}

const input = JSON.parse(fs.readFileSync(0, 'utf8'));
const live = input.records.filter((r) => r.withdrawn === undefined || r.withdrawn === null);
const answers = input.queries.map(([name, version]) =>
  live.filter((r) => isVulnerable(r, name, version)).map((r) => r.id).sort());
process.stdout.write(JSON.stringify({ answers }));
