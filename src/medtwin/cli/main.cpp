// medtwin — the command-line entry point. Subcommands: simulate, models.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "medtwin/cli/audit_command.h"
#include "medtwin/cli/devices_command.h"
#include "medtwin/cli/dose_command.h"
#include "medtwin/cli/export_command.h"
#include "medtwin/cli/fit_command.h"
#include "medtwin/cli/pgx_command.h"
#include "medtwin/cli/popfit_command.h"
#include "medtwin/cli/serve_command.h"
#include "medtwin/cli/simulate_command.h"
#include "medtwin/cli/token_command.h"
#include "medtwin/cli/trial_command.h"

namespace {

constexpr int kBadInput = 2;

int Main(int argc, char** argv);

// Exit code and the one stderr line for a subcommand's outcome.
int Report(const char* command, const medtwin::Status& status) {
  if (status.ok()) return 0;
  std::fprintf(stderr, "medtwin %s: %s\n", command, status.error().ToString().c_str());
  return kBadInput;
}

}  // namespace

// The last line of defence: no exception leaves the process unexplained.
int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "medtwin: internal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "medtwin: internal error\n");
  }
  return 1;
}

namespace {

int Main(int argc, char** argv) {
  using medtwin::cli::SimulateArgs;
  CLI::App app{
      "medtwin — a patient digital twin engine.\n"
      "Simulates PK models through NONMEM-style dosing records, individualizes them from drug\n"
      "levels (MAP), recommends regimens and estimates population models (FOCE-I).",
      "medtwin"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "medtwin 0.1.0");

  SimulateArgs sim_args;
  auto* simulate = app.add_subcommand(
      "simulate",
      "Run a model through a NONMEM-style record file (ID, TIME, EVID, AMT, CMT, RATE, II, ADDL,\n"
      "SS, DV and parameter columns) and write one output row per record: ID, TIME, EVID and\n"
      "every model output (CP in mg/L, amounts A1..An in mg). Time is in hours for PK models.\n"
      "uva_padova (type-1 diabetes, time in min): meals are infusions into CMT 1 (AMT g, RATE\n"
      "g/min, e.g. 5), insulin into CMT 11 (AMT U, RATE U/min); outputs BG and Gsub (mg/dL);\n"
      "--patient adult#001 picks one of the 30 virtual patients.\n"
      "Bad input exits with code 2 and one line naming file, line, column and reason.");
  simulate->add_option("--model", sim_args.model, "Model name (see `medtwin models`)")->required();
  simulate->add_option("--data", sim_args.data_path, "Input records, CSV")->required();
  simulate->add_option("--out", sim_args.out_path, "Output CSV (written atomically)")->required();
  simulate->add_option("--plot", sim_args.plot_path,
                       "Also write an SVG plot of CP over time per ID");
  simulate->add_option("--patient", sim_args.patient,
                       "Virtual patient for uva_padova: adolescent#001..010, adult#001..010,\n"
                       "child#001..010 (parameters from data/uva_padova)");
  simulate->add_option("--param", sim_args.params,
                       "Parameter value NAME=VALUE before the first record (repeatable), e.g. "
                       "--param CL=4.2 --param F1=0.8");
  simulate->add_option("--ignore-column", sim_args.ignore_columns,
                       "Accept and skip an extra data column (repeatable)");
  simulate
      ->add_option("--method", sim_args.method,
                   "auto (closed form for linear models, else dopri5), closed, dopri5, cvode")
      ->capture_default_str();
  simulate->add_option("--rtol", sim_args.rtol, "Relative tolerance of ODE methods")
      ->capture_default_str();
  simulate->add_option("--atol", sim_args.atol, "Absolute tolerance of ODE methods (mg)")
      ->capture_default_str();

  medtwin::cli::FitArgs fit_args;
  auto* fit = app.add_subcommand(
      "fit",
      "Bayesian MAP individualization: for every ID in the record file, the η that minimize\n"
      "ηᵀΩ⁻¹η + Σ[(y−f)²/σ² + ln σ²] under a population model, with individual parameters,\n"
      "their approximate SE (Laplace), OFV and predictions at the observations (FIT.json).\n"
      "Covariate columns as the model declares (e.g. CRCL mL/min, WT kg, DIAL 0/1; or AGE,\n"
      "SEX 0 male/1 female, SCR mg/dL for Cockcroft-Gault).");
  fit->add_option("--model", fit_args.model,
                  "Population model: vancomycin_goti2018, vancomycin_buelga2005, or a .json file")
      ->required();
  fit->add_option("--data", fit_args.data_path, "Records with DV levels, CSV")->required();
  fit->add_option("--out", fit_args.out_path, "FIT.json (written atomically)")->required();
  fit->add_option("--plot", fit_args.plot_path,
                  "SVG: observed levels, individual fit and population prediction");
  fit->add_option(
      "--auc", fit_args.auc_windows,
      "Exposure window FROM:TO in hours after the first dose (repeatable), e.g.\n"
      "--auc 0:24 --auc 24:48; default: each day up to the one holding the last record.\n"
      "FIT.json reports AUC, Cmax and Cmin of the individual curve per window.");

  medtwin::cli::DoseArgs dose_args;
  auto* dose = app.add_subcommand(
      "dose",
      "Precision dosing: fit each patient (MAP), then rank every maintenance regimen on the menu\n"
      "(doses in steps, intervals, infusion time) by probability of target attainment over the\n"
      "posterior, at steady state. Writes ADVICE.json (recommended regimen, predicted AUC24,\n"
      "trough, PTA, alternatives), a forecast CSV with 5/50/95 % quantiles and an optional plot.");
  dose->add_option("--model", dose_args.model, "Population model name or .json file")->required();
  dose->add_option("--data", dose_args.data_path, "Records with doses, levels, covariates")
      ->required();
  dose->add_option(
          "--target", dose_args.targets,
          "auc24=LOW:HIGH (mg*h/L) and/or trough=LOW:HIGH (mg/L; the INR for\n"
          "warfarin_hamberg2007, e.g. trough=2:3 with --intervals 24 --infusion-h 0); repeatable")
      ->required();
  dose->add_option("--intervals", dose_args.intervals_h, "Dosing intervals to consider, h")
      ->delimiter(',')
      ->capture_default_str();
  dose->add_option("--infusion-h", dose_args.infusion_h, "Infusion duration, h (0: bolus)")
      ->capture_default_str();
  dose->add_option("--dose-step", dose_args.dose_step_mg, "Dose rounding step, mg")
      ->capture_default_str();
  dose->add_option("--dose-max", dose_args.dose_max_mg, "Largest single dose, mg")
      ->capture_default_str();
  dose->add_option("--start", dose_args.start_h,
                   "Time the new regimen starts, h (default: the next dose the records imply)");
  dose->add_option("--samples", dose_args.samples, "Posterior samples for PTA")
      ->capture_default_str();
  dose->add_option("--what-if", dose_args.what_if,
                   "Also evaluate a proposed regimen DOSE@INTERVAL[/INFUSION_H], e.g. 1250@12/2 "
                   "(repeatable)");
  dose->add_option("--out", dose_args.out_path, "ADVICE.json")->required();
  dose->add_option("--forecast", dose_args.forecast_path,
                   "Forecast CSV (default: OUT with _forecast.csv)");
  dose->add_option("--plot", dose_args.plot_path, "SVG of the forecast band and levels");

  medtwin::cli::PopfitArgs popfit_args;
  auto* popfit = app.add_subcommand(
      "popfit",
      "Population estimation by FOCE with interaction: typical values and log-normal IIV\n"
      "(diagonal or full Ω) of the --iiv parameters, and the residual error, from a multi-subject\n"
      "record file with DV levels. Writes POP.json and a population model file for fit/dose.");
  popfit->add_option("--model", popfit_args.model, "Structural model, e.g. pk_1cmt_oral")
      ->required();
  popfit->add_option("--data", popfit_args.data_path, "Records, CSV")->required();
  popfit->add_option("--iiv", popfit_args.iiv, "Parameters with IIV, e.g. KA,CL,V")
      ->delimiter(',')
      ->required();
  popfit->add_option("--error", popfit_args.error, "additive, proportional or combined")
      ->capture_default_str();
  popfit->add_option("--omega", popfit_args.omega, "diagonal or full (correlated IIV)")
      ->capture_default_str();
  popfit->add_option("--ignore-column", popfit_args.ignore_columns,
                     "Accept and skip an extra data column (repeatable)");
  popfit->add_option("--out", popfit_args.out_path, "POP.json")->required();
  popfit->add_option("--model-out", popfit_args.model_out_path,
                     "Population model file (default: OUT with _model.json)");

  medtwin::cli::TrialArgs trial_args;
  auto* trial = app.add_subcommand(
      "trial",
      "In-silico trial of a glucose controller on UVA/Padova virtual patients: each patient\n"
      "lives --days under the controller (CGM every 5 min with sensor noise, pump limits, hard\n"
      "safety limits) while its twin (an unscented Kalman filter) forecasts and raises\n"
      "predictive hypoglycemia alerts. Writes DIR/cohort.csv, cohort.md, trial.json, agp.svg\n"
      "(ambulatory glucose profile), cvga.svg (control-variability grid) and patients/.\n"
      "Same seed, same results, whatever --threads.");
  trial->add_option("--model", trial_args.model, "Model (uva_padova)")->capture_default_str();
  trial->add_option("--cohort", trial_args.cohort, "adults, adolescents, children or all")
      ->capture_default_str();
  trial->add_option("--days", trial_args.days, "Days per patient")->capture_default_str();
  trial
      ->add_option("--controller", trial_args.controller,
                   "bb (basal-bolus, CR/CF from Quest.csv), pid (PID + meal bolus) or mpc\n"
                   "(model predictive control on the patient's twin)")
      ->capture_default_str();
  trial
      ->add_option("--meals", trial_args.meals,
                   "Daily meals HH:MM=GRAMS,... on the 5-min grid, eaten at 5 g/min, announced")
      ->capture_default_str();
  trial->add_option("--seed", trial_args.seed, "Random seed (sensor noise)")->capture_default_str();
  trial->add_option("--threads", trial_args.threads, "Worker threads")->capture_default_str();
  trial->add_flag("--ideal-sensor", trial_args.ideal_sensor,
                  "CGM without noise or calibration error");
  trial->add_flag("--no-alerts", trial_args.no_alerts,
                  "Skip the twin's filter and alerts (faster; no forecast columns)");
  trial->add_flag("--bands", trial_args.bands,
                  "Also forecast 30/60/120 min ahead with 5-95 % bands every 5 min (patients/\n"
                  "NAME.csv columns ahead30_mean,_p05,_p95 ...; slower)");
  trial->add_option("--out", trial_args.out_dir, "Output directory")->required();

  auto* pgx = app.add_subcommand(
      "pgx",
      "Pharmacogenomics: star-allele diplotypes, phenotypes and activity scores from a VCF\n"
      "(CPIC/PharmCAT allele definitions in data/pgx).");
  pgx->require_subcommand(1);
  medtwin::cli::PgxCallArgs pgx_call_args;
  auto* pgx_call = pgx->add_subcommand(
      "call",
      "Call every sample of a GRCh38 VCF (single or multi-sample, GT phased or not) for every\n"
      "gene in data/pgx: diplotype(s) with match score and missing positions, phenotype and\n"
      "activity score. Outside calls (CYP2D6, HLA, …) come from a TSV:\n"
      "GENE<TAB>DIPLOTYPE[<TAB>PHENOTYPE[<TAB>ACTIVITY]]. A gene with no data is 'not called',\n"
      "never guessed. Calls are PharmCAT's (v3.1.1 matcher semantics, checked on its own test\n"
      "suite): FORMAT/PS phase sets are used; DPYD by its two lowest-function alleles.");
  pgx_call->add_option("--vcf", pgx_call_args.vcf, "VCF file (- for standard input)")->required();
  pgx_call->add_option("--outside-calls", pgx_call_args.outside_calls, "Outside calls (TSV)");
  pgx_call->add_option("--out", pgx_call_args.out_json, "CALLS.json");
  pgx_call->add_option("--tsv", pgx_call_args.out_tsv, "CALLS.tsv (one row per sample and gene)");
  pgx_call->add_option("--data", pgx_call_args.data_dir,
                       "Directory with alleles/ and phenotype/ (default: data/pgx)");
  pgx_call->add_flag("--all-results", pgx_call_args.all_results,
                     "List every diplotype that explains the genotypes, best score first, not\n"
                     "only the top-scoring ones (PharmCAT's --matcher-all-results)");
  pgx_call->add_flag("--research-combinations", pgx_call_args.combinations,
                     "When no pair of defined alleles explains the genotypes, name each strand by\n"
                     "the alleles and variants it carries, e.g. [*2 + *3] or g.94781859G>A\n"
                     "(PharmCAT's research mode; not for clinical use)");

  medtwin::cli::PgxGuideArgs pgx_guide_args;
  auto* pgx_guide = pgx->add_subcommand(
      "guide",
      "The CPIC recommendation for a drug given the calls (clopidogrel, voriconazole,\n"
      "simvastatin, azathioprine, mercaptopurine, fluorouracil, capecitabine, tacrolimus,\n"
      "efavirenz, atazanavir, codeine, abacavir, allopurinol, carbamazepine, warfarin; from\n"
      "data/pgx/guidance.json): action, strength, text and source, per sample.");
  pgx_guide->add_option("--calls", pgx_guide_args.calls, "CALLS.json from pgx call")->required();
  pgx_guide->add_option("--drug", pgx_guide_args.drug, "Drug name")->required();
  pgx_guide->add_option("--sample", pgx_guide_args.sample, "Only this sample");
  pgx_guide->add_option("--out", pgx_guide_args.out, "Write here instead of standard output");

  medtwin::cli::WarfarinTrialArgs warfarin_trial_args;
  auto* warfarin_trial = app.add_subcommand(
      "warfarin-trial",
      "Precision twins for warfarin: virtual patients per ancestry group (CYP2C9 and VKORC1\n"
      "genotypes from data/pgx/ancestry_frequencies.json, Hamberg 2007 variability), each\n"
      "started on a fixed 5 mg/day and on the IWPC pharmacogenetic dose, followed on the INR\n"
      "model: time in range 2-3 and INR > 4 by ancestry and genotype. Writes DIR/cohort.csv,\n"
      "summary.json, summary.md and inr.svg.");
  warfarin_trial
      ->add_option("--ancestry", warfarin_trial_args.ancestries,
                   "Groups, comma-separated (european, east_asian, african)")
      ->capture_default_str();
  warfarin_trial->add_option("--patients", warfarin_trial_args.patients, "Patients per group")
      ->capture_default_str();
  warfarin_trial->add_option("--days", warfarin_trial_args.days, "Days followed")
      ->capture_default_str();
  warfarin_trial->add_option("--seed", warfarin_trial_args.seed, "Random seed")
      ->capture_default_str();
  warfarin_trial->add_option("--out", warfarin_trial_args.out_dir, "Output directory")->required();

  medtwin::cli::ServeArgs serve_args;
  auto* serve = app.add_subcommand(
      "serve",
      "The twin server: one live twin per patient fed by observations over HTTP (JSON or bulk\n"
      "NDJSON), stored durably before they are acknowledged, scored (NEWS2, rules) and alerted\n"
      "on; REST API under /api/v1, live events at /api/v1/stream (Server-Sent Events),\n"
      "/healthz, /metrics (Prometheus). See docs/api.md. Stops on Ctrl-C.");
  serve->add_option("--listen", serve_args.listen, "HOST:PORT (port 0: any free port)")
      ->capture_default_str();
  serve->add_option("--store", serve_args.store, "sqlite:PATH or postgresql://USER@HOST/DB")
      ->capture_default_str();
  serve->add_option("--mqtt", serve_args.mqtt,
                    "mqtt://USER@HOST:PORT or mqtts://USER@HOST:PORT broker (password:\n"
                    "$MEDTWIN_MQTT_PASSWORD): ingest from medtwin/obs/{patient}, answer on\n"
                    "medtwin/ack/{patient}, alerts on medtwin/alerts/{patient}");
  serve->add_flag("--demo", serve_args.demo,
                  "Create demo patients (a ward, three deteriorating; two with type-1 diabetes\n"
                  "and CGM) and feed them live");
  serve->add_option("--speed", serve_args.speed, "Demo physiology speed (x real time)")
      ->capture_default_str();
  serve->add_option("--shards", serve_args.shards, "Twin shards (threads)")->capture_default_str();
  serve->add_option("--http-threads", serve_args.http_threads, "HTTP threads")
      ->capture_default_str();
  serve->add_option("--body-limit-mb", serve_args.body_limit_mb, "Largest request body (MB)")
      ->capture_default_str();
  serve->add_option("--auth-key", serve_args.auth_key,
                    "Signing key for bearer tokens (`medtwin token keygen`); every endpoint but\n"
                    "/healthz, /metrics and /fhir/r4/metadata needs a token. Required unless\n"
                    "--demo, which keeps a key beside its SQLite database (PATH.demo-key) "
                    "and\nprints a token per role.");
  serve->add_option("--audit-key", serve_args.audit_key,
                    "Key that signs the audit ledger's tree heads (`medtwin audit keygen`); give\n"
                    "verifiers its public key (`medtwin audit pubkey`). Without it a SQLite store\n"
                    "keeps one beside its database (PATH.audit-key); PostgreSQL needs it");
  serve
      ->add_option("--research-min-k", serve_args.research_min_k,
                   "The least k (k-anonymity) a researcher's export may use (2..100)")
      ->capture_default_str();
  serve
      ->add_option("--auth-failure-limit", serve_args.auth_failure_limit,
                   "Failed authentications per second per client address (burst twice that);\n"
                   "beyond it the address's refusals are 429s, aggregated in the audit trail")
      ->capture_default_str();
  serve->add_option("--rate-limit", serve_args.rate_limit, "Requests per second per token (429)")
      ->capture_default_str();
  serve->add_option("--tls-cert", serve_args.tls_cert,
                    "PEM certificate chain: serve HTTPS (TLS 1.2+) instead of HTTP");
  serve->add_option("--tls-key", serve_args.tls_key, "PEM private key for --tls-cert");
  serve->add_flag("--unsafe-no-security", serve_args.unsafe_no_security,
                  "Benchmarks only, 127.0.0.1 only: no tokens and no audit trail (to measure\n"
                  "what security costs)");
  serve->add_option("--mqtt-ca", serve_args.mqtt_ca,
                    "CA certificate for an mqtts:// broker (password: $MEDTWIN_MQTT_PASSWORD)");
  serve->add_flag("--allow-anonymous-mqtt", serve_args.allow_anonymous_mqtt,
                  "Let --mqtt connect without a user (anyone who reaches the broker could then\n"
                  "publish observations and read alerts): loopback brokers only");
  serve->add_option("--data-key", serve_args.data_key,
                    "Key ring for direct identifiers at rest (AES-256-GCM; `medtwin keys new`);\n"
                    "default $MEDTWIN_DATA_KEY; without either they are stored unencrypted");
  serve
      ->add_option("--read-timeout-s", serve_args.read_timeout_s,
                   "Seconds a client has to send a whole request (slow clients get 408)")
      ->capture_default_str();

  medtwin::cli::DevicesArgs devices_args;
  auto* devices = app.add_subcommand(
      "devices",
      "Device simulator: streams ward monitors' vital signs (every fourth patient deteriorates,\n"
      "sepsis-like) and CGMs of UVA/Padova virtual patients under basal-bolus therapy to a\n"
      "running server, over HTTP (bulk NDJSON) or MQTT (medtwin/obs/{patient}). Patients are\n"
      "created through the HTTP API first. Runs until --duration or Ctrl-C.");
  devices->add_option("--patients", devices_args.patients, "Ward patients")->capture_default_str();
  devices->add_option("--glucose-patients", devices_args.glucose_patients, "CGM patients")
      ->capture_default_str();
  devices
      ->add_option("--vancomycin-patients", devices_args.vancomycin_patients,
                   "Patients on vancomycin (doses every 12 h and drug levels)")
      ->capture_default_str();
  devices
      ->add_option("--warfarin-patients", devices_args.warfarin_patients,
                   "Patients on warfarin (5 mg a day, INRs, CYP2C9/VKORC1 genotype)")
      ->capture_default_str();
  devices->add_option("--speed", devices_args.speed, "Physiology speed (x real time)")
      ->capture_default_str();
  devices->add_option("--to", devices_args.to, "http://HOST:PORT or mqtt://HOST:PORT")->required();
  devices->add_option("--api", devices_args.api,
                      "http://HOST:PORT of the server's API (to create patients; default --to)");
  devices->add_option("--duration", devices_args.duration_s, "Seconds to run (0: until Ctrl-C)")
      ->capture_default_str();
  devices->add_option("--seed", devices_args.seed, "Random seed")->capture_default_str();
  devices->add_option("--token", devices_args.token,
                      "Bearer token for the HTTP API (default: $MEDTWIN_TOKEN); e.g. an admin "
                      "token, or a clinician's whose care team the patients join");

  auto* models = app.add_subcommand("models", "List the built-in models with parameters and units");

  bool routes_json = false;
  auto* routes = app.add_subcommand(
      "routes",
      "Every route `medtwin serve` answers, with the resource type and interaction it is\n"
      "authorized as and where its patient comes from (public routes need no token).");
  routes->add_flag("--json", routes_json, "As a JSON array");

  auto* audit = app.add_subcommand(
      "audit",
      "The audit ledger: every access to patient data, chained in an RFC 6962 Merkle tree with\n"
      "tree heads signed by the server's --audit-key (Ed25519); anyone with the public key can\n"
      "verify it, and a witness that keeps heads catches truncation and rewriting.");
  audit->require_subcommand(1);
  medtwin::cli::AuditArgs audit_args;
  auto* audit_keygen = audit->add_subcommand(
      "keygen", "Write a new tree-head signing key (mode 0600) and print its public key");
  audit_keygen->add_option("--out", audit_args.out, "Key file to create")->required();
  auto* audit_pubkey =
      audit->add_subcommand("pubkey", "Print the public key of an audit key file (hex)");
  audit_pubkey->add_option("--key", audit_args.key_file, "The --audit-key file")->required();
  auto* audit_verify =
      audit->add_subcommand("verify",
                            "Check every record and tree head (and a witness's kept heads);\n"
                            "name the first altered, removed or reordered record (exit 1)");
  auto* audit_proof = audit->add_subcommand(
      "proof", "Inclusion proof of one record in the newest signed tree head (JSON)");
  auto* audit_export =
      audit->add_subcommand("export", "Every record as a FHIR R4 AuditEvent (NDJSON)");
  auto* audit_witness = audit->add_subcommand(
      "witness",
      "Keep every signed tree head a server shows (HEADS.jsonl) and check each new one extends\n"
      "the last by an RFC 6962 consistency proof; exit 1 when one does not");
  for (auto* sub : {audit_verify, audit_proof, audit_export}) {
    sub->add_option("--store", audit_args.store, "sqlite:PATH or postgresql://…")->required();
  }
  for (auto* sub : {audit_verify, audit_proof, audit_witness}) {
    sub->add_option("--public-key", audit_args.public_key,
                    "The ledger's public key: 64 hex digits or a file (`medtwin audit pubkey`)");
    sub->add_option("--key", audit_args.key_file, "Or the --audit-key file itself");
  }
  audit_verify->add_option("--heads", audit_args.heads_file,
                           "Tree heads a witness kept (JSON lines): the store must hold them all");
  audit_proof->add_option("--seq", audit_args.seq, "Record number (from 0)")->required();
  audit_export->add_option("--out", audit_args.out, "NDJSON file to write")->required();
  audit_witness->add_option("--url", audit_args.url, "The server, http://HOST:PORT")->required();
  audit_witness->add_option("--token", audit_args.token, "An administrator's bearer token")
      ->required();
  audit_witness->add_option("--out", audit_args.out, "Where the heads are kept (appended)")
      ->required();
  audit_witness->add_option("--interval", audit_args.interval, "Between looks: 10s, 1m …")
      ->capture_default_str();
  audit_witness->add_option("--count", audit_args.count, "Stop after this many looks (0: never)")
      ->capture_default_str();

  medtwin::cli::ExportArgs export_args;
  auto* export_cmd = app.add_subcommand(
      "export",
      "Research data out of a store: only patients whose consent allows research now, with HIPAA\n"
      "Safe Harbor de-identification (pseudonyms, dates shifted per patient, ages over 89 as\n"
      "90+, no device ids) and k-anonymity on age and sex; CSV and FHIR NDJSON.");
  export_cmd->add_flag("--deidentify", export_args.deidentify, "De-identify (required)");
  export_cmd->add_option("--store", export_args.store, "sqlite:PATH or postgresql://…")->required();
  export_cmd->add_option("--key", export_args.key_file, "The server's --auth-key file")->required();
  export_cmd->add_option("--out", export_args.out, "Directory to write")->required();
  export_cmd->add_option("--k", export_args.k, "k-anonymity on (age, sex, condition codes)")
      ->capture_default_str();
  export_cmd->add_option("--study", export_args.study,
                         "A study key: the same pseudonyms in every export of the study (by\n"
                         "default each export's pseudonyms and date shifts are its own)");
  export_cmd->add_option("--data-key", export_args.data_key,
                         "The server's data key ring, if identifiers are stored encrypted");

  auto* keys = app.add_subcommand(
      "keys", "Data keys for identifiers at rest (AES-256-GCM): make one, rotate the store");
  keys->require_subcommand(1);
  std::string ring_file, rotate_store;
  auto* keys_new = keys->add_subcommand("new", "Put a new key at the top of a key ring file");
  keys_new->add_option("--ring", ring_file, "Key ring file (created if missing)")->required();
  auto* keys_rotate = keys->add_subcommand(
      "rotate", "Re-encrypt every stored patient's identifiers with the ring's first key");
  keys_rotate->add_option("--store", rotate_store, "sqlite:PATH or postgresql://…")->required();
  keys_rotate->add_option("--data-key", ring_file, "Key ring file")->required();

  auto* token = app.add_subcommand(
      "token",
      "Bearer tokens for `medtwin serve --auth-key FILE`: HS256 JWTs naming a subject, a role\n"
      "(admin, clinician, patient, device, researcher), SMART scopes, a patient context and an\n"
      "expiry.");
  token->require_subcommand(1);
  std::string keygen_out;
  auto* keygen = token->add_subcommand("keygen", "Write a new 256-bit signing key (mode 0600)");
  keygen->add_option("--out", keygen_out, "Key file to create")->required();
  medtwin::cli::TokenIssueArgs issue_args;
  auto* issue = token->add_subcommand("issue", "Print a signed token");
  issue->add_option("--key", issue_args.key_file, "Signing key file")->required();
  issue
      ->add_option("--role", issue_args.role,
                   "admin | clinician (their care teams' patients) | patient (own record, read)"
                   " | device (writes for its patient) | researcher (de-identified data)")
      ->required();
  issue->add_option("--subject", issue_args.subject, "Who: a user name or device id")->required();
  issue->add_option("--patient", issue_args.patient,
                    "Patient context (required for patient and device tokens)");
  issue->add_option("--scope", issue_args.scopes,
                    "SMART scopes narrowing the role, e.g. patient/*.rs user/Observation.cruds "
                    "system/*.read (repeatable)");
  issue->add_option("--ttl", issue_args.ttl, "Lifetime: 90s, 30m, 8h, 2d (at most 366d)")
      ->capture_default_str();
  std::string revoke_jti, revoke_store;
  auto* revoke = token->add_subcommand(
      "revoke",
      "Revoke a token by its id (jti, printed by `token issue`): servers on the same store\n"
      "refuse it within a second and end its open streams");
  revoke->add_option("jti", revoke_jti, "The token's id")->required();
  revoke->add_option("--store", revoke_store, "sqlite:PATH or postgresql://… (the server's)")
      ->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "medtwin: %s (see medtwin --help)\n", e.what());
    return kBadInput;
  }

  if (simulate->parsed()) return Report("simulate", medtwin::cli::RunSimulate(sim_args));
  if (fit->parsed()) return Report("fit", medtwin::cli::RunFit(fit_args));
  if (trial->parsed()) return Report("trial", medtwin::cli::RunTrialCommand(trial_args));
  if (pgx_call->parsed()) return Report("pgx call", medtwin::cli::RunPgxCall(pgx_call_args));
  if (pgx_guide->parsed()) return Report("pgx guide", medtwin::cli::RunPgxGuide(pgx_guide_args));
  if (warfarin_trial->parsed()) {
    return Report("warfarin-trial", medtwin::cli::RunWarfarinTrialCommand(warfarin_trial_args));
  }
  if (serve->parsed()) return Report("serve", medtwin::cli::RunServe(serve_args));
  if (devices->parsed()) return Report("devices", medtwin::cli::RunDevices(devices_args));
  if (dose->parsed()) return Report("dose", medtwin::cli::RunDose(dose_args));
  if (popfit->parsed()) return Report("popfit", medtwin::cli::RunPopfit(popfit_args));
  if (routes->parsed()) {
    std::cout << medtwin::cli::DescribeRoutes(routes_json);
    return 0;
  }
  if (audit_verify->parsed()) {
    auto ok = medtwin::cli::RunAuditVerify(audit_args);
    if (!ok.ok()) return Report("audit verify", ok.error());
    return *ok ? 0 : 1;
  }
  if (audit_proof->parsed()) return Report("audit proof", medtwin::cli::RunAuditProof(audit_args));
  if (audit_keygen->parsed()) {
    return Report("audit keygen", medtwin::cli::RunAuditKeygen(audit_args));
  }
  if (audit_pubkey->parsed()) {
    return Report("audit pubkey", medtwin::cli::RunAuditPubkey(audit_args));
  }
  if (audit_witness->parsed()) {
    auto ok = medtwin::cli::RunAuditWitness(audit_args);
    if (!ok.ok()) return Report("audit witness", ok.error());
    return *ok ? 0 : 1;
  }
  if (audit_export->parsed()) {
    return Report("audit export", medtwin::cli::RunAuditExport(audit_args));
  }
  if (keys_new->parsed()) return Report("keys new", medtwin::cli::RunKeysNew(ring_file));
  if (keys_rotate->parsed()) {
    return Report("keys rotate", medtwin::cli::RunKeysRotate(rotate_store, ring_file));
  }
  if (export_cmd->parsed()) return Report("export", medtwin::cli::RunExport(export_args));
  if (keygen->parsed()) return Report("token keygen", medtwin::cli::RunTokenKeygen(keygen_out));
  if (issue->parsed()) return Report("token issue", medtwin::cli::RunTokenIssue(issue_args));
  if (revoke->parsed()) {
    return Report("token revoke", medtwin::cli::RunTokenRevoke(revoke_jti, revoke_store));
  }
  if (models->parsed()) {
    std::cout << medtwin::cli::DescribeModels();
    return 0;
  }
  return 0;
}

}  // namespace
