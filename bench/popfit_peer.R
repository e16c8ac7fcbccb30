# Peer timing: R nlme on the Theophylline population fit (1-compartment oral, log-normal IIV
# on KA, CL, V, diagonal Ω, additive error) — the same fit `medtwin popfit` does. Prints the
# median seconds of 5 fits and the typical values.
suppressPackageStartupMessages(library(nlme))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], na.strings = ".")
dose <- d[d$EVID == 1, c("ID", "AMT")]
obs <- d[d$EVID == 0, c("ID", "TIME", "DV")]
obs$AMT <- dose$AMT[match(obs$ID, dose$ID)]
obs <- groupedData(DV ~ TIME | ID, data = obs)
conc <- function(lKA, lCL, lV, t, amt) {
  ka <- exp(lKA); cl <- exp(lCL); v <- exp(lV); k <- cl / v
  amt * ka / (v * (ka - k)) * (exp(-k * t) - exp(-ka * t))
}
times <- numeric(5)
for (i in 1:5) {
  times[i] <- system.time(fit <- nlme(DV ~ conc(lKA, lCL, lV, TIME, AMT), data = obs,
                                      fixed = lKA + lCL + lV ~ 1,
                                      random = pdDiag(lKA + lCL + lV ~ 1),
                                      start = c(lKA = 0.5, lCL = 1, lV = 3.5)))[["elapsed"]]
}
est <- exp(fixef(fit))
cat(sprintf("nlme_seconds %.3f\nnlme_KA %.4f\nnlme_CL %.4f\nnlme_V %.4f\n", median(times), est[1],
            est[2], est[3]))
