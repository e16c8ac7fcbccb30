# Peer timing for the MAP benchmark (bench/map_bench.cpp): the same objective,
#   OFV(η) = ηᵀΩ⁻¹η + Σ[(y − f)²/σ² + ln σ²], σ = sqrt(3.4² + (0.227 f)²)  (Goti 2018),
# minimized by R's optim (BFGS) with the model solved by deSolve lsoda. Prints the median
# milliseconds per fit and the OFV at the optimum (to compare with medtwin's).
suppressPackageStartupMessages(library(deSolve))
omega <- diag(c(0.147, 0.510, 0.282))
omega_inv <- solve(omega)
crcl <- 80; wt <- 85
tv <- c(CL = 4.5 * (crcl / 120)^0.8, V1 = 58.4 * wt / 70, V2 = 38.4, Q = 6.5)
obs_t <- c(11.5, 13.5); obs_y <- c(9.8, 28)
events <- data.frame(var = "R", time = c(0, 1, 12, 13), value = c(1000, -1000, 1000, -1000),
                     method = "add")
grid <- sort(unique(c(0, events$time, obs_t)))
rhs <- function(t, a, p) {
  k10 <- p[1] / p[2]; k12 <- p[4] / p[2]; k21 <- p[4] / p[3]
  list(c(-(k10 + k12) * a[1] + k21 * a[2] + a[3], k12 * a[1] - k21 * a[2], 0))
}
ofv <- function(eta) {
  p <- c(tv[["CL"]] * exp(eta[1]), tv[["V1"]] * exp(eta[2]), tv[["V2"]] * exp(eta[3]), tv[["Q"]])
  out <- lsoda(c(A1 = 0, A2 = 0, R = 0), grid, rhs, p, events = list(data = events), rtol = 1e-8,
               atol = 1e-8)
  f <- out[match(obs_t, out[, "time"]), "A1"] / p[2]
  sd <- sqrt(3.4^2 + (0.227 * f)^2)
  as.numeric(t(eta) %*% omega_inv %*% eta) + sum((obs_y - f)^2 / sd^2 + log(sd^2))
}
times <- numeric(20)
for (i in seq_along(times)) {
  times[i] <- system.time(fit <- optim(c(0, 0, 0), ofv, method = "BFGS"))[["elapsed"]]
}
cat(sprintf("r_optim_ms_per_fit %.3f\nr_optim_ofv %.6f\n", 1000 * median(times), fit$value))
