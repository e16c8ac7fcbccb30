# Peer check: R deSolve (lsoda) against `medtwin simulate` on the dosing hard cases of
# ../shared/models/dosing_events.md. deSolve gets every dose spelled out explicitly (steady
# state as 400 earlier intervals, lags applied by hand, reset as a restart from zero) and is
# integrated piecewise between dose events, so none of medtwin's event logic is reused.
# Usage: Rscript desolve_hard_cases.R MEDTWIN_BINARY WORK_DIR
suppressPackageStartupMessages(library(deSolve))
args <- commandArgs(trailingOnly = TRUE)
medtwin <- args[1]
work <- tempfile("medtwin_peer_")
dir.create(work)

# K matrices (dA/dt = K A + rates), compartments numbered as NONMEM ADVANs.
k_matrix <- function(model, p) {
  switch(model,
    pk_1cmt_iv = matrix(-p$CL / p$V, 1, 1),
    pk_1cmt_oral = matrix(c(-p$KA, p$KA, 0, -p$CL / p$V), 2, 2),
    pk_2cmt_iv = {
      k10 <- p$CL / p$V1; k12 <- p$Q / p$V1; k21 <- p$Q / p$V2
      matrix(c(-(k10 + k12), k12, k21, -k21), 2, 2)
    })
}
central <- function(model) if (model == "pk_1cmt_oral") 2 else 1
volume <- function(model, p) if (is.null(p$V)) p$V1 else p$V

# doses: data.frame(time, amt, cmt, dur[, after]) with dur = 0 for a bolus; at `reset` the
# state goes to 0 and only doses flagged `after` (given after the reset) still arrive.
simulate_desolve <- function(model, p, doses, obs_times, reset = Inf) {
  K <- k_matrix(model, p)
  n <- nrow(K)
  rhs <- function(t, a, rates) list(as.vector(K %*% a) + rates)
  if (is.null(doses$after)) doses$after <- TRUE
  breaks <- sort(unique(c(doses$time, doses$time + doses$dur, obs_times, reset)))
  breaks <- breaks[is.finite(breaks)]
  breaks <- breaks[breaks >= min(doses$time)]
  a <- rep(0, n)
  out <- setNames(rep(NA_real_, length(obs_times)), obs_times)
  for (i in seq_along(breaks)) {
    t <- breaks[i]
    if (t == reset) a <- rep(0, n)
    keep <- if (t >= reset) doses$after else rep(TRUE, nrow(doses))
    hit <- doses$dur == 0 & doses$time == t & keep
    for (j in which(hit)) a[doses$cmt[j]] <- a[doses$cmt[j]] + doses$amt[j]
    idx <- which(obs_times == t)
    if (length(idx)) out[idx] <- a[central(model)] / volume(model, p)
    if (i == length(breaks)) break
    t_next <- breaks[i + 1]
    rates <- rep(0, n)
    on <- doses$dur > 0 & doses$time <= t & doses$time + doses$dur > t & keep
    for (j in which(on)) rates[doses$cmt[j]] <- rates[doses$cmt[j]] + doses$amt[j] / doses$dur[j]
    sol <- lsoda(a, c(t, t_next), rhs, rates, rtol = 1e-11, atol = 1e-12)
    a <- as.numeric(sol[2, -1])
  }
  out
}

train <- function(first, ii, k_from, k_to, amt, cmt = 1, dur = 0) {
  k <- k_from:k_to
  data.frame(time = first + k * ii, amt = amt, cmt = cmt, dur = dur)
}

run_medtwin <- function(model, csv, params) {
  data <- file.path(work, "in.csv")
  out <- file.path(work, "out.csv")
  writeLines(csv, data)
  p <- paste(sprintf("--param %s=%s", names(params), unlist(params)), collapse = " ")
  status <- system(paste(medtwin, "simulate --model", model, "--data", data, "--out", out, p))
  if (status != 0) stop("medtwin failed")
  res <- read.csv(out)
  res[res$EVID == 0, c("TIME", "CP")]
}

cases <- list(
  list(name = "steady state with lag", model = "pk_1cmt_oral",
       p = list(CL = 4, V = 40, KA = 0.9, ALAG1 = 1.5),
       csv = c("ID,TIME,EVID,AMT,II,ADDL,SS", "1,0,1,100,12,3,1"),
       obs = c(0.5, 1.5, 2, 6, 12, 13.6, 30, 50),
       doses = function() train(1.5, 12, -400, 3, 100)),
  list(name = "steady-state infusion, F < 1", model = "pk_1cmt_iv",
       p = list(CL = 5, V = 30, F1 = 0.6),
       csv = c("ID,TIME,EVID,AMT,RATE,II,ADDL,SS", "1,0,1,1000,500,12,1,1"),
       obs = c(0.6, 1.2, 2, 11, 12.6, 24.5),
       doses = function() train(0, 12, -400, 1, 600, 1, 1.2)),
  list(name = "steady-state infusion, II < duration", model = "pk_2cmt_iv",
       p = list(CL = 5, V1 = 20, Q = 8, V2 = 60),
       csv = c("ID,TIME,EVID,AMT,RATE,II,ADDL,SS", "1,0,1,1000,50,12,2,1"),
       obs = c(4, 8, 12, 20, 30, 50),
       doses = function() train(0, 12, -400, 2, 1000, 1, 20)),
  list(name = "steady-state infusion, II == duration", model = "pk_1cmt_iv",
       p = list(CL = 5, V = 30),
       csv = c("ID,TIME,EVID,AMT,RATE,II,ADDL,SS", "1,0,1,1200,100,12,1,1"),
       obs = c(3, 12, 18, 30),
       doses = function() train(0, 12, -400, 1, 1200, 1, 12)),
  list(name = "modeled duration with steady state", model = "pk_1cmt_iv",
       p = list(CL = 3, V = 25, D1 = 3, F1 = 0.8),
       csv = c("ID,TIME,EVID,AMT,RATE,II,ADDL,SS", "1,0,1,400,-2,8,1,1"),
       obs = c(1, 3, 5, 8, 9, 20),
       doses = function() train(0, 8, -400, 1, 320, 1, 3)),
  list(name = "EVID 4 with SS and ADDL", model = "pk_1cmt_oral",
       p = list(CL = 4, V = 40, KA = 1.2),
       csv = c("ID,TIME,EVID,AMT,II,ADDL,SS", "1,0,1,500,12,10,0", "1,50,4,200,8,2,1"),
       # After the reset only the steady-state regimen exists: deSolve gets just that one.
       obs = c(50, 51, 58, 66, 74, 90),
       doses = function() train(50, 8, -400, 2, 200)),
  list(name = "EVID 3 then new doses with lag", model = "pk_1cmt_oral",
       p = list(CL = 4, V = 40, KA = 1.2, ALAG1 = 2),
       csv = c("ID,TIME,EVID,AMT,II,ADDL", "1,0,1,100,0,0", "1,10,1,100,4,2", "1,15,3,0,0,0",
               "1,17,1,80,0,0"),
       obs = c(14, 16, 18, 19, 20, 25), reset = 15,
       doses = function() data.frame(time = c(2, 12, 16, 20, 19), amt = c(100, 100, 100, 100, 80),
                                     cmt = 1, dur = 0,
                                     after = c(FALSE, FALSE, FALSE, FALSE, TRUE))),
  list(name = "SS=2 on top of a regimen", model = "pk_2cmt_iv",
       p = list(CL = 5, V1 = 20, Q = 8, V2 = 60),
       csv = c("ID,TIME,EVID,AMT,II,ADDL,SS", "1,0,1,100,0,0,0", "1,6,1,100,0,0,0",
               "1,12,1,50,24,1,2"),
       obs = c(13, 24, 36, 60),
       doses = function() rbind(data.frame(time = c(0, 6), amt = 100, cmt = 1, dur = 0),
                                train(12, 24, -400, 1, 50)))
)

passed <- 0
failed <- 0
for (case in cases) {
  obs_rows <- paste0("1,", case$obs, paste(rep(",.", length(strsplit(case$csv[1], ",")[[1]]) - 2),
                                           collapse = ""))
  csv <- c(case$csv, obs_rows)
  # Keep records in time order: observations after doses at equal times.
  body <- csv[-1]
  times <- as.numeric(sapply(strsplit(body, ","), `[`, 2))
  csv <- c(csv[1], body[order(times, seq_along(times))])
  got <- run_medtwin(case$model, csv, case$p)
  reset <- if (is.null(case$reset)) Inf else case$reset
  want <- simulate_desolve(case$model, case$p, case$doses(), case$obs, reset)
  got_cp <- got$CP[match(case$obs, got$TIME)]
  rel <- max(abs(got_cp - want) / pmax(abs(want), 1e-9))
  ok <- is.finite(rel) && rel < 1e-6
  cat(sprintf("%-40s max relative difference %.2e  %s\n", case$name, rel, if (ok) "ok" else "FAIL"))
  if (ok) passed <- passed + 1 else failed <- failed + 1
}
unlink(work, recursive = TRUE)
cat(sprintf("%d passed, %d failed\n", passed, failed))
quit(status = if (failed == 0) 0 else 1)
