# Reference values for nplab.stats.power (tests/stats/test_power.py).
# Run from this folder:  Rscript power_reference.R   -> writes power_values.csv
# Two groups: stats::power.t.test (tol tightened so n is exact to ~1e-10).
# One-way ANOVA: stats::power.anova.test (between.var = variance of the group means with
#   divisor k - 1, within.var = sigma^2; Cohen's f^2 = (k - 1)/k * between.var/within.var).
# Group x time: G*Power 3 formulas (Faul et al. 2007; G*Power manual) written out in R
#   with pf(ncp =) so the noncentral F comes from R, not from scipy.
options(digits = 15)
out <- list()
add <- function(case, name, value) out[[length(out) + 1]] <<- data.frame(case = case, name = name, value = value)
for (d in c(0.5, 0.8, 1.5)) {
  r <- power.t.test(delta = d, sd = 1, power = 0.8, tol = 1e-12)
  add(sprintf("t_n_d%.1f", d), "n", r$n)
  r <- power.t.test(delta = d, sd = 1, n = 10)
  add(sprintf("t_power_d%.1f", d), "power", r$power)
  r <- power.t.test(delta = d, sd = 1, n = 10, alternative = "one.sided")
  add(sprintf("t_power1_d%.1f", d), "power", r$power)
}
r <- power.t.test(delta = 1.2, sd = 1, power = 0.9, sig.level = 0.01, tol = 1e-12); add("t_n_a01", "n", r$n)
# power.anova.test: 4 groups with means 1,2,3,4.5 and sd 2
mu <- c(1, 2, 3, 4.5); bv <- var(mu); wv <- 4
r <- power.anova.test(groups = 4, n = 6, between.var = bv, within.var = wv); add("anova_power", "power", r$power)
add("anova_power", "f", sqrt((4 - 1) / 4 * bv / wv))
f_an <- function(n) { k <- 4; lam <- (k - 1) * n * bv / wv
  pf(qf(0.05, k - 1, k * (n - 1), lower.tail = FALSE), k - 1, k * (n - 1), lam, lower.tail = FALSE) }
add("anova_n", "n", uniroot(function(n) f_an(n) - 0.9, c(2, 1e5), tol = 1e-12)$root)
add("anova_n_pat", "n", power.anova.test(groups = 4, between.var = bv, within.var = wv, power = 0.9)$n)
# G*Power repeated measures
gp <- function(effect, f, N, k, m, rho, eps, alpha = 0.05) {
  if (effect == "between") { lam <- f^2 * N * m / (1 + (m - 1) * rho); df1 <- k - 1; df2 <- N - k }
  else { lam <- f^2 * N * m * eps / (1 - rho); df2 <- (N - k) * (m - 1) * eps
         df1 <- if (effect == "within") (m - 1) * eps else (k - 1) * (m - 1) * eps }
  pf(qf(alpha, df1, df2, lower.tail = FALSE), df1, df2, lam, lower.tail = FALSE)
}
cases <- data.frame(effect = c("between", "within", "interaction", "interaction", "within", "between"),
                    f = c(0.4, 0.25, 0.3, 0.25, 0.5, 0.6), N = c(30, 24, 32, 40, 10, 20),
                    k = c(3, 3, 4, 2, 1, 2), m = c(5, 6, 6, 4, 3, 4),
                    rho = c(0.6, 0.5, 0.4, 0.5, 0.3, 0.2), eps = c(1, 0.7, 0.55, 1, 0.8, 1))
for (i in seq_len(nrow(cases))) with(cases[i, ], add(sprintf("rm_%d", i), "power", gp(effect, f, N, k, m, rho, eps)))
for (i in seq_len(nrow(cases))) with(cases[i, ], {
  N <- 2 * k; while (gp(effect, f, N, k, m, rho, eps) < 0.9) N <- N + k
  add(sprintf("rm_%d", i), "N90", N) })
write.csv(cases, "power_rm_cases.csv", row.names = FALSE)
write.csv(do.call(rbind, out), "power_values.csv", row.names = FALSE)
