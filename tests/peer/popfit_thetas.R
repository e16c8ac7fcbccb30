# Peer check (issue 17, item 1): every structural parameter is a fixed effect estimated by
# `medtwin popfit`, IIV only where asked. Against R nlme fitted in the same run:
#  - Theophylline (../shared/data/theophylline), 1-compartment oral, IIV on CL and V only, KA
#    a fixed effect: typical values within 3 %;
#  - Theophylline with a proportional error, t = 0 samples removed: within one standard error of
#    nlme with varPower(fixed = 1) (the approximations differ more here; docs/validation.md);
#  - Indometh (R's datasets), 2-compartment IV bolus of 25 mg, IIV on CL and V1 only, Q and V2
#    fixed effects: CL, V1, V2 within 3 % (nlme: CL 8.96, V1 7.37, Q 6.24, V2 7.61); Q within
#    5 %: FOCE-I's optimum is Q 6.46 (the same from nlme's estimates as a start), 0.3 of its
#    standard error (0.70) from nlme's Lindstrom-Bates estimate (docs/validation.md).
# Usage: Rscript popfit_thetas.R MEDTWIN_BINARY THEOPH_CSV
script_dir <- dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)))
source(file.path(script_dir, "theoph_nlme_fit.R"))
args <- commandArgs(trailingOnly = TRUE)
medtwin <- args[1]
theoph_csv <- args[2]

popfit <- function(extra) {
  out <- tempfile(fileext = ".json")
  status <- system(paste(medtwin, "popfit", extra, "--out", out), ignore.stdout = TRUE,
                   ignore.stderr = TRUE)
  if (status != 0) stop(paste("medtwin popfit failed:", extra))
  txt <- paste(readLines(out), collapse = "")
  # A number in an object ("typical", "se") or at the top level (section ""); with text = TRUE
  # a top-level string.
  function(key, section = "typical", text = FALSE) {
    if (text) return(sub(paste0('.*"', key, '": *"([^"]*)".*'), "\\1", txt))
    inside <- if (section == "") "" else paste0('"', section, '": *\\{[^}]*')
    as.numeric(sub(paste0('.*', inside, '"', key, '": *([-0-9.eE+]+).*'), "\\1", txt))
  }
}

passed <- 0; failed <- 0
compare <- function(what, medtwin_est, nlme_est, tolerance) {
  for (p in names(nlme_est)) {
    rel <- abs(medtwin_est[[p]] - nlme_est[[p]]) / nlme_est[[p]]
    ok <- is.finite(rel) && rel < tolerance
    cat(sprintf("%-9s %-3s medtwin %.4f  nlme %.4f  difference %.2f %%  %s\n", what, p,
                medtwin_est[[p]], nlme_est[[p]], 100 * rel, if (ok) "ok" else "FAIL"))
    if (ok) passed <<- passed + 1 else failed <<- failed + 1
  }
}

# Theophylline, KA without IIV.
obs <- theoph_observations(theoph_csv)
fit_t <- nlme(DV ~ theoph_conc(lKA, lCL, lV, TIME, AMT), data = obs,
              fixed = lKA + lCL + lV ~ 1, random = pdDiag(lCL + lV ~ 1),
              start = c(lKA = 0.5, lCL = 1, lV = 3.5))
nlme_t <- exp(fixef(fit_t)); names(nlme_t) <- c("KA", "CL", "V")
get_t <- popfit(paste("--model pk_1cmt_oral --data", theoph_csv, "--iiv CL,V --error additive",
                      "--ignore-column WT --ignore-column DOSE_MG_KG"))
compare("Theoph", c(KA = get_t("KA"), CL = get_t("CL"), V = get_t("V")), nlme_t, 0.03)

# Theophylline with a proportional error (SD = sigma * prediction) after removing the t = 0
# samples, which the model predicts to be 0 (popfit refuses them under a proportional error).
# nlme: varPower(fixed = 1) on the fitted values is the same residual model.
obs_p <- obs[obs$TIME > 0, ]
fit_p <- nlme(DV ~ theoph_conc(lKA, lCL, lV, TIME, AMT), data = obs_p,
              fixed = lKA + lCL + lV ~ 1, random = pdDiag(lKA + lCL + lV ~ 1),
              start = c(lKA = 0.5, lCL = 1, lV = 3.5), weights = varPower(fixed = 1))
nlme_p <- exp(fixef(fit_p)); names(nlme_p) <- c("KA", "CL", "V")
theoph_p_csv <- tempfile(fileext = ".csv")
d <- read.csv(theoph_csv, na.strings = ".", colClasses = "character")
write.csv(d[!(d$EVID == "0" & as.numeric(d$TIME) == 0), ], theoph_p_csv, row.names = FALSE,
          quote = FALSE, na = ".")
get_p <- popfit(paste("--model pk_1cmt_oral --data", theoph_p_csv,
                      "--iiv KA,CL,V --error proportional",
                      "--ignore-column WT --ignore-column DOSE_MG_KG"))
# FOCE-I weighs each record by the variance at its individual prediction, inside the
# likelihood (interaction); nlme's Lindstrom-Bates steps hold the variance weights at the
# current fitted values, so with a proportional error the two approximations part more than
# with an additive one: the check is that they agree within one of medtwin's standard errors
# (docs/validation.md gives the numbers).
for (p in names(nlme_p)) {
  est <- get_p(p); se <- get_p(p, "se"); diff <- abs(est - nlme_p[[p]])
  ok <- is.finite(se) && diff < se
  cat(sprintf("Theoph-prop %-3s medtwin %.4f (SE %.4f)  nlme %.4f  difference %.2f %% = %.2f SE  %s\n",
              p, est, se, nlme_p[[p]], 100 * diff / nlme_p[[p]], diff / se,
              if (ok) "ok" else "FAIL"))
  if (ok) passed <- passed + 1 else failed <- failed + 1
}

# Theophylline with a covariate effect estimated with the rest: CL = CL_70 * (WT/70)^theta.
# nlme: lCL modelled as a linear function of log(WT/70), which is the same model.
obs_w <- obs
obs_w$WT <- read.csv(theoph_csv, na.strings = ".")$WT[match(obs_w$ID, read.csv(theoph_csv)$ID)]
fit_w <- nlme(DV ~ theoph_conc(lKA, lCL, lV, TIME, AMT), data = obs_w,
              fixed = list(lKA ~ 1, lCL ~ I(log(WT / 70)), lV ~ 1),
              random = pdDiag(lKA + lCL + lV ~ 1),
              start = c(lKA = 0.5, lCL = 1, 0, lV = 3.5))
fe <- fixef(fit_w)
nlme_w <- c(KA = exp(fe[[1]]), CL = exp(fe[[2]]), V = exp(fe[[4]]))
get_w <- popfit(paste("--model pk_1cmt_oral --data", theoph_csv, "--iiv KA,CL,V",
                      "--ignore-column DOSE_MG_KG --covariate CL~WT:power:70"))
compare("Theoph-WT", c(KA = get_w("KA"), CL = get_w("CL"), V = get_w("V")), nlme_w, 0.03)
exponent <- get_w("coefficient", ""); exponent_se <- get_w("se", "")
# (covariate_effects holds the only "coefficient" and the only numeric "se" in POP.json)
exp_ok <- is.finite(exponent) && abs(exponent - fe[[3]]) < exponent_se
cat(sprintf("Theoph-WT exponent medtwin %.4f (SE %.4f)  nlme %.4f  %s\n", exponent, exponent_se,
            fe[[3]], if (exp_ok) "ok" else "FAIL"))
if (exp_ok) passed <- passed + 1 else failed <- failed + 1

# Indometh, Q and V2 without IIV.
indo_conc <- function(lCL, lV1, lQ, lV2, t) {
  cl <- exp(lCL); v1 <- exp(lV1); q <- exp(lQ); v2 <- exp(lV2)
  k10 <- cl / v1; k12 <- q / v1; k21 <- q / v2
  s <- k10 + k12 + k21
  alpha <- (s + sqrt(s^2 - 4 * k10 * k21)) / 2
  beta <- (s - sqrt(s^2 - 4 * k10 * k21)) / 2
  25 / v1 * ((alpha - k21) / (alpha - beta) * exp(-alpha * t) +
             (k21 - beta) / (alpha - beta) * exp(-beta * t))
}
indo <- groupedData(conc ~ time | Subject, data = as.data.frame(Indometh))
fit_i <- nlme(conc ~ indo_conc(lCL, lV1, lQ, lV2, time), data = indo,
              fixed = lCL + lV1 + lQ + lV2 ~ 1, random = pdDiag(lCL + lV1 ~ 1),
              start = c(lCL = log(9), lV1 = log(7), lQ = log(6), lV2 = log(8)))
nlme_i <- exp(fixef(fit_i)); names(nlme_i) <- c("CL", "V1", "Q", "V2")
indo_csv <- tempfile(fileext = ".csv")
rows <- c("ID,TIME,EVID,AMT,CMT,DV")
for (id in unique(as.character(Indometh$Subject))) {
  rows <- c(rows, sprintf("%s,0,1,25,1,.", id))
  d <- Indometh[as.character(Indometh$Subject) == id, ]
  rows <- c(rows, sprintf("%s,%g,0,.,1,%g", id, d$time, d$conc))
}
writeLines(rows, indo_csv)
get_i <- popfit(paste("--model pk_2cmt_iv --data", indo_csv, "--iiv CL,V1 --error additive"))
compare("Indometh", c(CL = get_i("CL"), V1 = get_i("V1"), V2 = get_i("V2")),
        nlme_i[c("CL", "V1", "V2")], 0.03)
compare("Indometh", c(Q = get_i("Q")), nlme_i["Q"], 0.05)

# Indometh with IIV on all four parameters. nlme drives omega_Q to 0 (5e-6 as an SD), and so
# does FOCE-I: popfit must say that this is why the standard errors are missing. Typical values
# within 5 % (V2, the least determined, within 6 %: FOCE-I's own optimum lies 0.05 below its
# objective at nlme's estimates, which is checked, so the gap is between the two likelihood
# approximations and not an unfinished search; docs/validation.md).
fit_f <- nlme(conc ~ indo_conc(lCL, lV1, lQ, lV2, time), data = indo,
              fixed = lCL + lV1 + lQ + lV2 ~ 1, random = pdDiag(lCL + lV1 + lQ + lV2 ~ 1),
              start = c(lCL = log(9), lV1 = log(7), lQ = log(6), lV2 = log(8)))
nlme_f <- exp(fixef(fit_f)); names(nlme_f) <- c("CL", "V1", "Q", "V2")
get_f <- popfit(paste("--model pk_2cmt_iv --data", indo_csv, "--iiv CL,V1,Q,V2"))
compare("Indo-full", c(CL = get_f("CL"), V1 = get_f("V1"), Q = get_f("Q")),
        nlme_f[c("CL", "V1", "Q")], 0.05)
compare("Indo-full", c(V2 = get_f("V2")), nlme_f["V2"], 0.06)
omega_f <- as.numeric(VarCorr(fit_f)[1:4, "Variance"])
get_at_nlme <- popfit(paste(
  "--model pk_2cmt_iv --data", indo_csv, "--iiv CL,V1,Q,V2 --max-iterations 0",
  sprintf("--init CL=%.10g --init V1=%.10g --init Q=%.10g --init V2=%.10g", nlme_f[["CL"]],
          nlme_f[["V1"]], nlme_f[["Q"]], nlme_f[["V2"]]),
  sprintf("--init OMEGA_CL=%.10g --init OMEGA_V1=%.10g --init OMEGA_Q=%.10g --init OMEGA_V2=%.10g",
          omega_f[1], omega_f[2], max(omega_f[3], 1e-12), omega_f[4]),
  sprintf("--init SIGMA_ADDITIVE=%.10g", fit_f$sigma)))
at_own <- get_f("ofv", "")
cat(sprintf("Indo-full FOCE-I OFV at medtwin's estimates %.4f, at nlme's %.4f  %s\n", at_own,
            get_at_nlme("ofv", ""), if (at_own <= get_at_nlme("ofv", "")) "ok" else "FAIL"))
if (at_own <= get_at_nlme("ofv", "")) passed <- passed + 1 else failed <- failed + 1
note_ok <- grepl("omega_Q", get_f("se_note", "", text = TRUE))
cat(sprintf("Indo-full se_note names omega_Q  %s\n", if (note_ok) "ok" else "FAIL"))
if (note_ok) passed <- passed + 1 else failed <- failed + 1

cat(sprintf("%d passed, %d failed\n", passed, failed))
quit(status = if (failed == 0) 0 else 1)
