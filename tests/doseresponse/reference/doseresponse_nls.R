# Independent reference values for nplab.doseresponse, computed with base R nls()
# (Gauss-Newton) and stats::optimHess() -- drc is not used.
#   Rscript doseresponse_nls.R   (run in this folder; writes doseresponse_nls.csv)
# Conventions reproduced (drc, Ritz et al. 2015 PLoS ONE 10:e0146021):
#   LL.4: f(x) = c + (d - c) / (1 + exp(b (log x - log e)))
#   vcov = s^2 * solve(H / 2), H = observed Hessian of the RSS (drc vcov.drc)
#   ED_p (relative, decreasing curve) = e * (p / (100 - p))^(1 / b)
#   delta CI: t quantile on the residual df; profile CI: exact root of the profile
#   t statistic (refits with ED_p held fixed); F test: anova() of nested nls fits; AIC: AIC().
options(digits = 15)
out <- data.frame(case = character(), quantity = character(), value = numeric())
add <- function(case, quantity, value) {
  out <<- rbind(out, data.frame(case = case, quantity = quantity, value = value))
}

ll4 <- y ~ c + (d - c) / (1 + exp(b * (log(x) - log(e))))
grad_ll4 <- deriv(~ c + (d - c) / (1 + exp(b * (log(x) - log(e)))), c("b", "c", "d", "e"),
                  function(b, c, d, e, x) {})

hess_vcov <- function(rssfun, grfun, par, s2) {
  H <- optimHess(par, rssfun, grfun)
  s2 * solve(H / 2)
}

## ---- ryegrass, LL.4 and LL.3 -------------------------------------------------
rg <- read.csv("ryegrass.csv")
dat <- data.frame(x = rg$conc, y = rg$rootl)
m4 <- nls(ll4, data = dat, start = list(b = 2, c = 0.5, d = 8, e = 3),
          control = nls.control(tol = 1e-7, scaleOffset = 1, maxiter = 200))
p4 <- coef(m4); rss4 <- deviance(m4); df4 <- df.residual(m4); s2 <- rss4 / df4
rss_fun <- function(p) sum((dat$y - (p[2] + (p[3] - p[2]) / (1 + exp(p[1] * (log(dat$x) - log(p[4])))))) ^ 2)
gr_fun <- function(p) {
  g <- grad_ll4(p[1], p[2], p[3], p[4], dat$x)
  r <- dat$y - as.vector(g)
  J <- attr(g, "gradient"); J[!is.finite(J)] <- 0
  as.vector(-2 * t(J) %*% r)
}
V <- hess_vcov(rss_fun, gr_fun, p4, s2)
for (i in 1:4) {
  add("ryegrass_LL4", paste0("estimate_", names(p4)[i]), p4[i])
  add("ryegrass_LL4", paste0("se_hessian_", names(p4)[i]), sqrt(V[i, i]))
  add("ryegrass_LL4", paste0("se_jtj_", names(p4)[i]), sqrt(vcov(m4)[i, i]))
}
add("ryegrass_LL4", "rss", rss4)
add("ryegrass_LL4", "residual_se", sqrt(s2))
add("ryegrass_LL4", "aic", AIC(m4))
q <- qt(0.975, df4)
for (p in c(10, 50, 90)) {
  edf <- function(par) par[4] * (p / (100 - p))^(1 / par[1])
  ed <- edf(p4)
  g <- c(-ed * log(p / (100 - p)) / p4[1]^2, 0, 0, ed / p4[4])
  se <- sqrt(as.numeric(t(g) %*% V %*% g))
  add("ryegrass_LL4", paste0("ed", p, "_estimate"), ed)
  add("ryegrass_LL4", paste0("ed", p, "_se"), se)
  add("ryegrass_LL4", paste0("ed", p, "_delta_low"), ed - q * se)
  add("ryegrass_LL4", paste0("ed", p, "_delta_high"), ed + q * se)
  add("ryegrass_LL4", paste0("ed", p, "_log_low"), ed * exp(-q * se / ed))
  add("ryegrass_LL4", paste0("ed", p, "_log_high"), ed * exp(q * se / ed))
  # profile likelihood (exact, not the spline-interpolated confint()): for a fixed
  # ED_p value v, refit with e = v / k^(1/b) (k = p / (100 - p)); tau(v) =
  # sqrt((RSS(v) - RSS) / s^2); the limits solve tau(v) = t_{0.975, df}.
  k <- p / (100 - p)
  prss <- function(v) {
    dv <- dat; dv$v <- v
    mf <- nls(y ~ c + (d - c) / (1 + k * exp(b * (log(x) - log(v)))), data = dv,
              start = list(b = p4[[1]], c = p4[[2]], d = p4[[3]]),
              control = nls.control(tol = 1e-7, scaleOffset = 1, maxiter = 200))
    deviance(mf)
  }
  tau <- function(v) sqrt(max(prss(v) - rss4, 0) / s2) - q
  lo <- uniroot(tau, c(ed * 0.5, ed), tol = 1e-12)$root
  hi <- uniroot(tau, c(ed, ed * 2), tol = 1e-12)$root
  ci <- c(lo, hi)
  add("ryegrass_LL4", paste0("ed", p, "_profile_low"), ci[1])
  add("ryegrass_LL4", paste0("ed", p, "_profile_high"), ci[2])
}
m3 <- nls(y ~ d / (1 + exp(b * (log(x) - log(e)))), data = dat,
          start = list(b = 2, d = 8, e = 3), control = nls.control(tol = 1e-7, scaleOffset = 1))
a <- anova(m3, m4)
add("ryegrass_LL3_vs_LL4", "f", a[2, "F value"])
add("ryegrass_LL3_vs_LL4", "p", a[2, "Pr(>F)"])
add("ryegrass_LL3_vs_LL4", "aic_LL3", AIC(m3))
add("ryegrass_LL3_vs_LL4", "aic_LL4", AIC(m4))
add("ryegrass_LL3_vs_LL4", "rss_LL3", deviance(m3))
for (nm in names(coef(m3))) add("ryegrass_LL3", paste0("estimate_", nm), coef(m3)[[nm]])

## ---- two drugs: separate curves vs shared bottom/top ------------------------------
td <- read.csv("twodrugs.csv")
dd <- data.frame(x = td$conc_um, y = td$response, g = as.integer(factor(td$drug)))
ms <- nls(y ~ c[g] + (d[g] - c[g]) / (1 + exp(b[g] * (log(x) - log(e[g])))), data = dd,
          start = list(b = c(1, 1.8), c = c(1, 8), d = c(105, 95), e = c(2, 9)),
          control = nls.control(tol = 1e-7, scaleOffset = 1, maxiter = 200))
mr <- nls(y ~ c + (d - c) / (1 + exp(b[g] * (log(x) - log(e[g])))), data = dd,
          start = list(b = c(1.2, 1.5), c = 5, d = 99, e = c(2.3, 9.4)),
          control = nls.control(tol = 1e-7, scaleOffset = 1, maxiter = 200))
a <- anova(mr, ms)
add("twodrugs_shared_vs_separate", "f", a[2, "F value"])
add("twodrugs_shared_vs_separate", "p", a[2, "Pr(>F)"])
add("twodrugs_shared_vs_separate", "rss_shared", deviance(mr))
add("twodrugs_shared_vs_separate", "rss_separate", deviance(ms))
add("twodrugs_shared_vs_separate", "aic_shared", AIC(mr))
add("twodrugs_shared_vs_separate", "aic_separate", AIC(ms))
# shared-model estimates and Hessian SEs; parameter order b1 b2 c d e1 e2
pr <- coef(mr); dfr <- df.residual(mr); s2r <- deviance(mr) / dfr
fr <- function(p, x, g) p[3] + (p[4] - p[3]) / (1 + exp(p[g] * (log(x) - log(p[4 + g]))))
rss_r <- function(p) sum((dd$y - fr(p, dd$x, dd$g))^2)
num_grad <- function(f, p, h = 1e-6) sapply(seq_along(p), function(i) {
  hp <- h * max(abs(p[i]), 1e-3); a1 <- p; a2 <- p; a1[i] <- a1[i] + hp; a2[i] <- a2[i] - hp
  (f(a1) - f(a2)) / (2 * hp)
})
gr_r <- function(p) {
  r <- dd$y - fr(p, dd$x, dd$g)
  J <- sapply(seq_along(p), function(i) {
    hp <- 1e-7 * max(abs(p[i]), 1e-3); a1 <- p; a2 <- p; a1[i] <- a1[i] + hp; a2[i] <- a2[i] - hp
    (fr(a1, dd$x, dd$g) - fr(a2, dd$x, dd$g)) / (2 * hp)
  })
  as.vector(-2 * t(J) %*% r)
}
Vr <- hess_vcov(rss_r, gr_r, pr, s2r)
nm <- c("hill_A", "hill_B", "bottom", "top", "ic50_A", "ic50_B")
for (i in 1:6) {
  add("twodrugs_shared", paste0("estimate_", nm[i]), pr[[i]])
  add("twodrugs_shared", paste0("se_hessian_", nm[i]), sqrt(Vr[i, i]))
}
add("twodrugs_shared", "residual_se", sqrt(s2r))
# relative potency ED50(A) / ED50(B) = e1 / e2: delta and Fieller (t on the residual df)
qr <- qt(0.975, dfr)
r <- pr[[5]] / pr[[6]]
g <- c(0, 0, 0, 0, 1 / pr[[6]], -pr[[5]] / pr[[6]]^2)
se <- sqrt(as.numeric(t(g) %*% Vr %*% g))
add("twodrugs_shared", "rp50_ratio", r)
add("twodrugs_shared", "rp50_se", se)
add("twodrugs_shared", "rp50_delta_low", r - qr * se)
add("twodrugs_shared", "rp50_delta_high", r + qr * se)
# Fieller: solve (e1 - R e2)^2 = t^2 (v11 - 2 R v12 + R^2 v22) for R
v11 <- Vr[5, 5]; v22 <- Vr[6, 6]; v12 <- Vr[5, 6]; e1 <- pr[[5]]; e2 <- pr[[6]]
A <- e2^2 - qr^2 * v22; B <- -2 * (e1 * e2 - qr^2 * v12); C <- e1^2 - qr^2 * v11
roots <- sort((-B + c(-1, 1) * sqrt(B^2 - 4 * A * C)) / (2 * A))
add("twodrugs_shared", "rp50_fieller_low", roots[1])
add("twodrugs_shared", "rp50_fieller_high", roots[2])
# separate-curves model: estimates and pooled-variance Hessian SEs (drc pools curves)
ps <- coef(ms); dfs <- df.residual(ms); s2s <- deviance(ms) / dfs
fs <- function(p, x, g) p[2 + g] + (p[4 + g] - p[2 + g]) / (1 + exp(p[g] * (log(x) - log(p[6 + g]))))
rss_s <- function(p) sum((dd$y - fs(p, dd$x, dd$g))^2)
gr_s <- function(p) {
  r <- dd$y - fs(p, dd$x, dd$g)
  J <- sapply(seq_along(p), function(i) {
    hp <- 1e-7 * max(abs(p[i]), 1e-3); a1 <- p; a2 <- p; a1[i] <- a1[i] + hp; a2[i] <- a2[i] - hp
    (fs(a1, dd$x, dd$g) - fs(a2, dd$x, dd$g)) / (2 * hp)
  })
  as.vector(-2 * t(J) %*% r)
}
Vs <- hess_vcov(rss_s, gr_s, ps, s2s)
nm <- c("hill_A", "hill_B", "bottom_A", "bottom_B", "top_A", "top_B", "ic50_A", "ic50_B")
for (i in 1:8) {
  add("twodrugs_separate", paste0("estimate_", nm[i]), ps[[i]])
  add("twodrugs_separate", paste0("se_hessian_", nm[i]), sqrt(Vs[i, i]))
}
add("twodrugs_separate", "residual_se", sqrt(s2s))
write.csv(out, "doseresponse_nls.csv", row.names = FALSE)
