# Peer timing for the glucose twin (issue #5): the UVA/Padova model of docs/glucose.md in R
# deSolve, integrated the way the reference peer (simglucose) does it — inputs constant over
# each minute, one adaptive Dormand–Prince 5(4) solve ("ode45") per minute, the meal size D̄
# counted per minute. Open-loop day: basal, meals 07:00 45 g, 12:00 70 g, 18:00 80 g at
# 5 g/min with carb-counted boluses in one minute.
# Usage: Rscript bench/uva_padova_peer.R DATA_DIR OUT_CSV PATIENT...
# Prints seconds per patient-day; writes t_min, patient, BG (mg/dL) to OUT_CSV.
suppressPackageStartupMessages(library(deSolve))
args <- commandArgs(trailingOnly = TRUE)
pars_all <- read.csv(file.path(args[1], "vpatient_params.csv"), check.names = FALSE)
names(pars_all) <- gsub(" ", "", names(pars_all))
quest <- read.csv(file.path(args[1], "Quest.csv"))
out_csv <- args[2]
patients <- args[-(1:2)]

rhs <- function(t, x, p) {
  with(p, {
    qsto <- x[1] + x[2]
    if (Dbar > 0) {
      aa <- 5 / (2 * Dbar * (1 - b)); cc <- 5 / (2 * Dbar * d)
      kgut <- kmin + (kmax - kmin) / 2 * (tanh(aa * (qsto - b * Dbar)) - tanh(cc * (qsto - d * Dbar)) + 2)
    } else kgut <- kmax
    dx <- numeric(13)
    dx[1] <- -kmax * x[1] + CHO
    dx[2] <- kmax * x[1] - kgut * x[2]
    dx[3] <- kgut * x[2] - kabs * x[3]
    Ra <- f * kabs * x[3] / BW
    EGP <- kp1 - kp2 * x[4] - kp3 * x[9]
    E <- if (x[4] > ke2) ke1 * (x[4] - ke2) else 0
    dx[4] <- max(EGP, 0) + Ra - Fsnc - E - k1 * x[4] + k2 * x[5]
    Uid <- (Vm0 + Vmx * x[7]) * x[5] / (Km0 + x[5])
    dx[5] <- -Uid + k1 * x[4] - k2 * x[5]
    dx[6] <- -(m2 + m4) * x[6] + m1 * x[10] + ka1 * x[11] + ka2 * x[12]
    It <- x[6] / Vi
    dx[7] <- -p2u * x[7] + p2u * (It - Ib)
    dx[8] <- -ki * (x[8] - It)
    dx[9] <- -ki * (x[9] - x[8])
    dx[10] <- -(m1 + m30) * x[10] + m2 * x[6]
    dx[11] <- INS - (ka1 + kd) * x[11]
    dx[12] <- kd * x[11] - ka2 * x[12]
    dx[13] <- -ksc * x[13] + ksc * x[4]
    for (i in c(4, 5, 6, 10, 11, 12, 13)) if (x[i] < 0) dx[i] <- 0
    list(dx)
  })
}

simulate_day <- function(name) {
  p <- as.list(pars_all[pars_all$Name == name, ])
  cr <- quest$CR[quest$Name == name]
  x <- unlist(p[paste0("x0_", 1:13)])
  basal <- p$u2ss * p$BW / 6000
  meals <- c(`420` = 45, `720` = 70, `1080` = 80)
  planned <- 0; last_cho <- 0; q0 <- 0; eaten <- 0; dbar <- 0
  bg <- numeric(1440)
  for (t in 0:1439) {
    bg[t + 1] <- x[4] / p$Vg
    ins <- basal
    key <- as.character(t)
    if (!is.na(meals[key])) { planned <- planned + meals[[key]]; ins <- ins + meals[[key]] / cr }
    cho <- min(5, planned); planned <- planned - cho
    if (cho > 0 && last_cho <= 0) { q0 <- unname(x[1] + x[2]); eaten <- 0 }
    if (cho > 0) eaten <- eaten + cho
    if (cho > 0 || eaten > 0) dbar <- q0 + eaten * 1000
    last_cho <- cho
    pp <- c(p, CHO = cho * 1000, INS = ins * 6000 / p$BW, Dbar = dbar)
    sol <- ode(y = x, times = c(t, t + 1), func = rhs, parms = pp, method = "ode45",
               rtol = 1e-6, atol = 1e-8)
    x <- sol[2, -1]
  }
  data.frame(t_min = 0:1439, patient = name, bg = bg)
}

results <- list()
t0 <- proc.time()[["elapsed"]]
for (name in patients) results[[name]] <- simulate_day(name)
elapsed <- proc.time()[["elapsed"]] - t0
write.csv(do.call(rbind, results), out_csv, row.names = FALSE)
cat(sprintf("r_seconds_per_patient_day %.3f\n", elapsed / length(patients)))
