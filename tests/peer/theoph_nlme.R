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
# The diagnostics table against the published definitions, computed here independently from
# popfit's estimates and eta-hats (the table's ETA_ columns): WRES (first order, at eta = 0) and
# CWRES (Hooker et al., Pharm Res 2007;24:2187: y - f(eta) + G eta over
# cov = G Omega G' + R at eta-hat), each decorrelated by the Cholesky factor of its covariance;
# IWRES = (y - IPRED) / sigma; PRED and IPRED from the closed form. G by central differences.
table <- read.csv(sub("\\.json$", "_table.csv", out))
section_num <- function(section, key) {
  as.numeric(sub(paste0('.*"', section, '": *\\{[^}]*"', key, '": *([-0-9.eE+]+).*'), "\\1", txt))
}
typ <- c(KA = num("KA"), CL = num("CL"), V = num("V"))
omega <- diag(c(section_num("omega", "KA"), section_num("omega", "CL"), section_num("omega", "V")))
sigma <- section_num("sigma", "additive_sd")
obs_all <- theoph_observations(data_csv)
worst <- c(PRED = 0, IPRED = 0, IWRES = 0, WRES = 0, CWRES = 0)
for (id in unique(table$ID)) {
  rows <- table[table$ID == id, ]
  amt <- obs_all$AMT[obs_all$ID == id][1]
  eta_hat <- as.numeric(rows[1, c("ETA_KA", "ETA_CL", "ETA_V")])
  f <- function(eta) theoph_conc(log(typ[["KA"]]) + eta[1], log(typ[["CL"]]) + eta[2],
                                 log(typ[["V"]]) + eta[3], rows$TIME, amt)
  jac <- function(eta) sapply(1:3, function(k) {
    h <- 1e-6; up <- eta; dn <- eta; up[k] <- up[k] + h; dn[k] <- dn[k] - h
    (f(up) - f(dn)) / (2 * h)
  })
  decorrelate <- function(g, r) {
    cov <- g %*% omega %*% t(g) + diag(sigma^2, length(r))
    forwardsolve(t(chol(cov)), r)
  }
  f0 <- f(c(0, 0, 0)); fh <- f(eta_hat); g0 <- jac(c(0, 0, 0)); gh <- jac(eta_hat)
  mine <- list(PRED = f0, IPRED = fh, IWRES = (rows$DV - fh) / sigma,
               WRES = decorrelate(g0, rows$DV - f0),
               CWRES = decorrelate(gh, rows$DV - fh + gh %*% eta_hat))
  for (k in names(worst)) worst[[k]] <- max(worst[[k]], abs(mine[[k]] - rows[[k]]))
}
table_ok <- all(worst < 1e-4)
cat(sprintf("table vs the definitions in R: largest differences %s  %s\n",
            paste(sprintf("%s %.1e", names(worst), worst), collapse = ", "),
            if (table_ok) "ok" else "FAIL"))
if (table_ok) passed <- passed + 1 else failed <- failed + 1
cat(sprintf("%d passed, %d failed\n", passed, failed))
quit(status = if (failed == 0) 0 else 1)
