# Peer timing: R deSolve (lsoda) on the benchmark workload of bench/sim_bench.cpp —
# 2-compartment IV, 1-h infusions of 1 g every 12 h for 14 days, hourly output — written the
# way a pharmacometrician would: an R right-hand side, infusions switched on and off by
# deSolve events. Prints milliseconds per subject. Usage: Rscript desolve_peer.R [SUBJECTS]
suppressPackageStartupMessages(library(deSolve))
args <- commandArgs(trailingOnly = TRUE)
n_subjects <- if (length(args) >= 1) as.integer(args[1]) else 50
set.seed(42)

rhs <- function(t, a, p) {
  k10 <- p[["CL"]] / p[["V1"]]; k12 <- p[["Q"]] / p[["V1"]]; k21 <- p[["Q"]] / p[["V2"]]
  list(c(-(k10 + k12) * a[1] + k21 * a[2] + a[3], k12 * a[1] - k21 * a[2], 0))
}
starts <- seq(0, by = 12, length.out = 28)
events <- data.frame(var = 3, time = c(starts, starts + 1), value = c(rep(1000, 28), rep(-1000, 28)),
                     method = "add")
events <- events[order(events$time), ]
times <- 0:336

elapsed <- system.time({
  for (i in seq_len(n_subjects)) {
    eta <- exp(rnorm(4, 0, 0.3))
    p <- c(CL = 4 * eta[1], V1 = 30 * eta[2], Q = 6 * eta[3], V2 = 40 * eta[4])
    out <- lsoda(c(A1 = 0, A2 = 0, RATE = 0), times, rhs, p, events = list(data = events),
                 rtol = 1e-8, atol = 1e-8)
    cp_end <- out[nrow(out), "A1"] / p[["V1"]]
  }
})[["elapsed"]]
cat(sprintf("desolve_lsoda_ms_per_subject %.3f\n", 1000 * elapsed / n_subjects))
