# Peer timing: R nlme on the Theophylline population fit (1-compartment oral, log-normal IIV
# on KA, CL, V, diagonal Ω, additive error) — the same fit `medtwin popfit` does. Prints the
# median seconds of 5 fits and the typical values.
source("tests/peer/theoph_nlme_fit.R")  # run from the repository root (peer_comparison.sh)
args <- commandArgs(trailingOnly = TRUE)
obs <- theoph_observations(args[1])
times <- numeric(5)
for (i in 1:5) times[i] <- system.time(fit <- theoph_nlme_fit(obs))[["elapsed"]]
est <- exp(fixef(fit))
cat(sprintf("nlme_seconds %.3f\nnlme_KA %.4f\nnlme_CL %.4f\nnlme_V %.4f\n", median(times), est[1],
            est[2], est[3]))
