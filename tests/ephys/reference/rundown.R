# Reference values for tests/ephys/test_concentrations.py and test_ic50.py (independent
# of nplab).  Run: Rscript tests/ephys/reference/rundown.R
# One tagged file, sweeps every 5 s: control sweeps 0-5, drug (1 uM) sweeps 6-11.
# Steady state = mean of the last 3 sweeps of each period; linear run-down correction =
# control line lm(value ~ time) over all control sweeps, extrapolated to the mean time of
# the drug steady-state sweeps, relative to the line at the mean time of the control
# steady-state sweeps.
options(digits = 15)
t <- (0:11) * 5
v <- c(-1000, -996, -991, -985, -982, -976, -700, -560, -520, -505, -500, -497)
ctrl <- 1:6; drug <- 7:12
fit <- lm(v[ctrl] ~ t[ctrl])
a <- coef(fit)[[1]]; b <- coef(fit)[[2]]
ss_c <- mean(v[4:6]); tc <- mean(t[4:6])
ss_d <- mean(v[10:12]); td <- mean(t[10:12])
raw <- ss_d / ss_c
fac <- (a + b * td) / (a + b * tc)
cat(sprintf("a=%.12f b=%.12f\n", a, b))
cat(sprintf("ctrl_ss=%.12f drug_ss=%.12f raw=%.12f\n", ss_c, ss_d, raw))
cat(sprintf("factor=%.12f corrected=%.12f\n", fac, raw / fac))
cat(sprintf("rundown_pct_per_min=%.12f\n", 100 * 60 * b / (a + b * tc)))
# time-matched vehicle: two vehicle cells, ratio to their control steady state (last 3)
tv <- (0:11) * 5
v1 <- c(-800, -799, -797, -796, -795, -793, -790, -788, -785, -783, -781, -779)
v2 <- c(-1200, -1198, -1195, -1193, -1190, -1188, -1184, -1180, -1177, -1175, -1171, -1168)
r1 <- v1 / mean(v1[4:6]); r2 <- v2 / mean(v2[4:6])
rv <- (approx(tv, r1, xout = td)$y + approx(tv, r2, xout = td)$y) / 2
cat(sprintf("vehicle_ratio=%.12f vehicle_corrected=%.12f\n", rv, raw / rv))
