# Reference values for tests/ephys/test_ic50.py (independent of nplab).
# Run: Rscript tests/ephys/reference/ic50_fits.R
# Fractional currents of three cells at 0.1, 0.3, 1, 3, 10 uM (Hill curves plus fixed
# perturbations).  Per-cell fit of I/Icontrol = 1/(1 + (x/e)^b) (drc LL.2: c = 0, d = 1)
# by nls; standard errors as drc (vcov = s^2 * solve(H/2), H = Hessian of the residual
# sum of squares, from optimHess); pooled mean of log10(e) +- SEM with a t(n-1) 95% CI;
# global LL.2 fit of all 15 points; LL.3 (c = 0, free d) for cell A with the control
# point (x = 0, y = 1) included.
options(digits = 15)
x <- c(0.1, 0.3, 1, 3, 10)
Y <- list(
  A = c(0.929091, 0.754231, 0.510000, 0.230000, 0.095909),
  B = c(0.963270, 0.926916, 0.681730, 0.390705, 0.121604),
  C = c(0.867119, 0.671911, 0.440430, 0.202527, 0.083682))
ll2 <- function(p, x) 1 / (1 + (x / p[2])^p[1])
fit_ll2 <- function(x, y) {
  m <- nls(y ~ 1 / (1 + (x / e)^b), start = list(b = 1, e = 1),
           control = nls.control(tol = 1e-6, maxiter = 200))
  rss <- function(q) sum((y - ll2(q, x))^2)
  # polish the nls solution (its relative-offset test stops near 1e-6)
  p <- optim(coef(m), rss, method = "BFGS",
             control = list(reltol = 1e-16, maxit = 10000, parscale = coef(m)))$par
  s2 <- rss(p) / (length(y) - 2)
  H <- optimHess(p, rss, control = list(ndeps = c(1e-5, 1e-5)))
  V <- s2 * solve(H / 2)
  list(p = p, se = sqrt(diag(V)), rse = sqrt(s2))
}
logs <- c()
for (k in names(Y)) {
  f <- fit_ll2(x, Y[[k]])
  logs <- c(logs, log10(f$p[["e"]]))
  cat(sprintf("%s hill=%.10f ic50=%.10f se_hill=%.8f se_ic50=%.8f rse=%.10f\n", k,
              f$p[["b"]], f$p[["e"]], f$se[1], f$se[2], f$rse))
}
n <- length(logs); m <- mean(logs); sem <- sd(logs) / sqrt(n); q <- qt(0.975, n - 1)
cat(sprintf("mean_log10=%.10f sem=%.10f gmean=%.10f ci=%.10f %.10f\n", m, sem, 10^m,
            10^(m - q * sem), 10^(m + q * sem)))
g <- fit_ll2(rep(x, 3), unlist(Y))
cat(sprintf("global hill=%.10f ic50=%.10f se_ic50=%.8f ci=%.8f %.8f\n", g$p[["b"]],
            g$p[["e"]], g$se[2], g$p[["e"]] - qt(0.975, 13) * g$se[2],
            g$p[["e"]] + qt(0.975, 13) * g$se[2]))
# LL.3 for cell A with its control point
xa <- c(0, x); ya <- c(1, Y$A)
m3 <- nls(ya ~ d / (1 + (xa / e)^b), start = list(b = 1, d = 1, e = 1),
          control = nls.control(tol = 1e-6, maxiter = 200))
r3 <- function(q) sum((ya - q[2] / (1 + (xa / q[3])^q[1]))^2)
p3 <- optim(coef(m3), r3, method = "BFGS",
            control = list(reltol = 1e-16, maxit = 10000, parscale = coef(m3)))$par
cat(sprintf("LL3_A hill=%.10f top=%.10f ic50=%.10f\n", p3[["b"]], p3[["d"]], p3[["e"]]))
# log-scale (delta on ln e) 95% CI of cell A: exp(ln e +- t(3) se/e)
fA <- fit_ll2(x, Y$A)
h <- qt(0.975, 3) * fA$se[2] / fA$p[["e"]]
cat(sprintf("logCI_A=%.8f %.8f\n", fA$p[["e"]] * exp(-h), fA$p[["e"]] * exp(h)))
