# The Theophylline nlme fit shared by the peer check (tests/peer/theoph_nlme.R) and the peer
# timing (bench/popfit_peer.R): 1-compartment oral model as a closed form in log-parameters,
# log-normal IIV on KA, CL, V with diagonal Ω, additive error, doses in mg from the CSV.
suppressPackageStartupMessages(library(nlme))

theoph_observations <- function(csv) {
  d <- read.csv(csv, na.strings = ".")
  dose <- d[d$EVID == 1, c("ID", "AMT")]
  obs <- d[d$EVID == 0, c("ID", "TIME", "DV")]
  obs$AMT <- dose$AMT[match(obs$ID, dose$ID)]
  groupedData(DV ~ TIME | ID, data = obs)
}

theoph_conc <- function(lKA, lCL, lV, t, amt) {
  ka <- exp(lKA); cl <- exp(lCL); v <- exp(lV); k <- cl / v
  amt * ka / (v * (ka - k)) * (exp(-k * t) - exp(-ka * t))
}

theoph_nlme_fit <- function(obs) {
  nlme(DV ~ theoph_conc(lKA, lCL, lV, TIME, AMT), data = obs, fixed = lKA + lCL + lV ~ 1,
       random = pdDiag(lKA + lCL + lV ~ 1), start = c(lKA = 0.5, lCL = 1, lV = 3.5))
}
