# Peer check: `medtwin popfit` (FOCE-I) against R nlme on the real Theophylline data
# (../shared/data/theophylline): 1-compartment oral model, log-normal IIV on KA, CL and V,
# diagonal Ω, additive error, doses in mg. Typical values must agree within 2 %.
# Usage: Rscript theoph_nlme.R MEDTWIN_BINARY DATA_CSV
script_dir <- dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)))
source(file.path(script_dir, "theoph_nlme_fit.R"))
args <- commandArgs(trailingOnly = TRUE)
medtwin <- args[1]
data_csv <- args[2]
out <- tempfile(fileext = ".json")
status <- system(paste(medtwin, "popfit --model pk_1cmt_oral --data", data_csv,
                       "--iiv KA,CL,V --error additive --ignore-column WT",
                       "--ignore-column DOSE_MG_KG --out", out))
if (status != 0) stop("medtwin popfit failed")
txt <- paste(readLines(out), collapse = "")
num <- function(key) as.numeric(sub(paste0('.*"typical": *\\{[^}]*"', key, '": *([-0-9.eE+]+).*'), "\\1", txt))
medtwin_est <- c(KA = num("KA"), CL = num("CL"), V = num("V"))

fit <- theoph_nlme_fit(theoph_observations(data_csv))
nlme_est <- exp(fixef(fit))
names(nlme_est) <- c("KA", "CL", "V")

passed <- 0; failed <- 0
for (p in names(nlme_est)) {
  rel <- abs(medtwin_est[[p]] - nlme_est[[p]]) / nlme_est[[p]]
  ok <- is.finite(rel) && rel < 0.02
  cat(sprintf("%-3s medtwin %.4f  nlme %.4f  difference %.2f %%  %s\n", p, medtwin_est[[p]],
              nlme_est[[p]], 100 * rel, if (ok) "ok" else "FAIL"))
  if (ok) passed <- passed + 1 else failed <- failed + 1
}
# The objective as NONMEM reports it (no n*ln(2*pi)): medtwin's ofv, its minus_2ll less the
# constant, and nlme's -2*logLik (ML) less the constant. FOCE-I (Laplace) and nlme's
# Lindstrom-Bates approximation differ a little at the optimum, so they must agree to 1 unit.
n_obs <- nrow(theoph_observations(data_csv))
key <- function(name) as.numeric(sub(paste0('.*"', name, '": *([-0-9.eE+]+).*'), "\\1", txt))
medtwin_ofv <- key("ofv")
medtwin_m2ll <- key("minus_2ll")
nlme_ofv <- -2 * as.numeric(logLik(fit)) - n_obs * log(2 * pi)
checks <- c(constant = abs(medtwin_m2ll - medtwin_ofv - n_obs * log(2 * pi)) < 1e-6,
            nlme = abs(medtwin_ofv - nlme_ofv) < 1)
cat(sprintf("OFV medtwin %.3f (minus_2ll %.3f)  nlme %.3f  (%d observations)  %s\n", medtwin_ofv,
            medtwin_m2ll, nlme_ofv, n_obs, if (all(checks)) "ok" else "FAIL"))
if (all(checks)) passed <- passed + 1 else failed <- failed + 1
cat(sprintf("%d passed, %d failed\n", passed, failed))
quit(status = if (failed == 0) 0 else 1)
