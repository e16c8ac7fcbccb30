// The workflows an EHR integration runs, driven by an outside FHIR client (npm fhir-kit-client)
// against medtwin: a transaction whose Observations refer to its new Patient by urn:uuid,
// conditional create sent twice, search paging to the end following `next`, and read / vread /
// update with If-Match (a stale one refused). Prints one JSON object of what it saw; the
// end-to-end test (tests/server/fhir_client_e2e_test.cpp) asserts on it.
// Usage: node fhir_workflows.mjs BASE_URL TOKEN
import { Client, RESPONSE_KEY } from "fhir-kit-client";

const [baseUrl, token] = process.argv.slice(2);
const client = new Client({ baseUrl, bearerToken: token });
const out = {};
const mrn = "http://hospital.example/mrn";
const minutesAgo = (m) => new Date(Date.now() - m * 60000).toISOString();
const heartRate = (subject, value, m) => ({
  resourceType: "Observation",
  status: "final",
  category: [{ coding: [{ system: "http://terminology.hl7.org/CodeSystem/observation-category", code: "vital-signs" }] }],
  code: { coding: [{ system: "http://loinc.org", code: "8867-4" }] },
  subject: { reference: subject },
  effectiveDateTime: minutesAgo(m),
  valueQuantity: { value, unit: "/min", system: "http://unitsofmeasure.org", code: "/min" },
});
const status = async (promise) => {
  try {
    await promise;
    return 200;
  } catch (e) {
    return e.response?.status ?? -1;
  }
};

// 1. A transaction: the Patient by urn:uuid, 25 readings referring to it.
const uuid = "urn:uuid:0b7e5d52-2f7a-4b63-9f3e-8d6a1f3c9a10";
const entries = [
  {
    fullUrl: uuid,
    resource: { resourceType: "Patient", identifier: [{ system: mrn, value: "MRN-KIT-1" }], gender: "male", birthDate: "1961-05-04" },
    request: { method: "POST", url: "Patient" },
  },
];
for (let i = 0; i < 25; i++) {
  entries.push({ resource: heartRate(uuid, 60 + i, 200 - i), request: { method: "POST", url: "Observation" } });
}
const tx = await client.transaction({ body: { resourceType: "Bundle", type: "transaction", entry: entries } });
out.transaction_type = tx.type;
out.transaction_statuses = tx.entry.map((e) => e.response.status);
const patientId = tx.entry[0].response.location.replace(/^.*Patient\//, "").replace(/\/_history.*$/, "");
out.patient_id = patientId;

// 2. Conditional create, twice: one patient.
const conditional = { resourceType: "Patient", identifier: [{ system: mrn, value: "MRN-KIT-2" }], gender: "female" };
const condition = { headers: { "If-None-Exist": `identifier=${mrn}|MRN-KIT-2` } };
const first = await client.create({ resourceType: "Patient", body: conditional, options: condition });
const second = await client.create({ resourceType: "Patient", body: conditional, options: condition });
out.conditional_statuses = [first[RESPONSE_KEY].status, second[RESPONSE_KEY].status];
out.conditional_same_id = first.id === second.id;
const matches = await client.search({ resourceType: "Patient", searchParams: { identifier: `${mrn}|MRN-KIT-2` } });
out.conditional_matches = matches.total;

// 3. Search in pages of 10, following next to the end, and previous back to the start.
let page = await client.search({ resourceType: "Observation", searchParams: { patient: patientId, _count: 10, _sort: "date" } });
out.search_total = page.total;
const seen = [];
let pages = 0;
let last;
while (page) {
  pages++;
  last = page;
  for (const e of page.entry ?? []) seen.push(e.resource.valueQuantity.value);
  page = client.nextPage({ bundle: page }) ? await client.nextPage({ bundle: page }) : undefined;
}
out.search_pages = pages;
out.search_values = seen;
// ... and back from the last page following previous (the client's prevPage).
const back = [];
page = last;
while (page) {
  back.unshift(...(page.entry ?? []).map((e) => e.resource.valueQuantity.value));
  page = client.prevPage({ bundle: page }) ? await client.prevPage({ bundle: page }) : undefined;
}
out.search_values_backward = back;

// 4. read, update with If-Match, a stale If-Match, vread, history.
const read = await client.read({ resourceType: "Patient", id: patientId });
out.read_version = read.meta?.versionId;
out.read_etag = read[RESPONSE_KEY].headers.get("etag");
const changed = { ...read, gender: "other" };
delete changed.meta;
const updated = await client.update({ resourceType: "Patient", id: patientId, body: changed, options: { headers: { "If-Match": out.read_etag } } });
out.update_version = updated.meta?.versionId;
out.stale_update_status = await status(
  client.update({ resourceType: "Patient", id: patientId, body: { ...changed, gender: "female" }, options: { headers: { "If-Match": out.read_etag } } }),
);
const v1 = await client.vread({ resourceType: "Patient", id: patientId, version: "1" });
out.vread_1_gender = v1.gender;
const history = await client.history({ resourceType: "Patient", id: patientId });
out.history_type = history.type;
out.history_versions = history.entry.map((e) => e.resource.meta.versionId);
out.after_gender = (await client.read({ resourceType: "Patient", id: patientId })).gender;
console.log(JSON.stringify(out));
