# Reference values for tests/elisa/test_quantify.py, produced with base R's nls
# (Debian r-base-core). Run from this folder:  Rscript elisa_nls.R
# For each plate file: blank mean subtracted, LL.4 / LL.5 fitted to the blank-corrected
# standards (zero standard included) by nls (Gauss-Newton), unweighted, with weights
# 1/signal^2 (raw signal), and with power-of-the-mean weights 1/mu^(2*theta), theta = 1,
# mu = fitted raw signal, iterated (IRLS). Then each sample's mean corrected signal is
# back-calculated, x = e*(((d-c)/(y-c))^(1/f)-1)^(1/b), with the delta-method SE
# sqrt(g' V g + (dx/dy)^2 * sd^2/n), V = vcov(nls fit).
options(digits = 15)
# tight tolerance; warnOnly: at the minimum nls may stop on "step factor" after it has converged
ctl <- nls.control(maxiter = 1000, tol = 1e-9, minFactor = 1e-10, warnOnly = TRUE)
out <- list()
inv <- deriv(~ e * (((d - c) / (y - c))^(1 / f) - 1)^(1 / b), c("b", "c", "d", "e", "f", "y"))
run <- function(file, model, weighting) {
  dat <- read.csv(file, stringsAsFactors = FALSE)
  blank <- mean(dat$signal[dat$kind == "blank"])
  dat$corr <- dat$signal - blank
  std <- dat[dat$kind == "standard", ]
  half <- (max(std$corr) + min(std$corr)) / 2
  st0 <- list(b = -1, c = min(std$corr), d = max(std$corr) * 1.1,
              e = std$nominal[which.min(abs(std$corr - half))])
  if (model == "LL.5") {
    form <- corr ~ c + (d - c) / (1 + (nominal / e)^b)^f
    st0$f <- 1
    # LL.5 started from the LL.4 fit
    f4 <- nls(corr ~ c + (d - c) / (1 + (nominal / e)^b), data = std, start = st0[1:4],
              control = ctl)
    st0 <- c(as.list(coef(f4)), list(f = 1))
  } else {
    form <- corr ~ c + (d - c) / (1 + (nominal / e)^b)
  }
  # start from an unweighted fit
  fit <- nls(form, data = std, start = st0, control = ctl)
  if (weighting == "1/y^2") {
    std$w <- 1 / std$signal^2
    fit <- nls(form, data = std, start = coef(fit), weights = w,
               control = ctl)
  } else if (weighting == "pom") {
    for (it in 1:50) {
      std$w <- 1 / (fitted(fit) + blank)^2
      old <- coef(fit)
      fit <- nls(form, data = std, start = coef(fit), weights = w,
                 control = ctl)
      if (max(abs(coef(fit) - old) / abs(old)) < 1e-10) break
    }
  }
  cf <- coef(fit)
  V <- vcov(fit)
  if (model == "LL.4") cf["f"] <- 1
  smp <- dat[dat$kind == "sample", ]
  agg <- aggregate(corr ~ sample, data = smp, FUN = mean)
  agg$sd <- aggregate(corr ~ sample, data = smp, FUN = sd)$corr
  agg$n <- aggregate(corr ~ sample, data = smp, FUN = length)$corr
  res <- data.frame()
  for (i in seq_len(nrow(agg))) {
    ev <- eval(inv, c(as.list(cf), list(y = agg$corr[i])))
    g <- attr(ev, "gradient")
    gp <- g[1, rownames(V)]
    se <- sqrt(as.numeric(t(gp) %*% V %*% gp) + g[1, "y"]^2 * agg$sd[i]^2 / agg$n[i])
    res <- rbind(res, data.frame(sample = agg$sample[i], well_concentration = as.numeric(ev),
                                 se_well = se))
  }
  pars <- data.frame(parameter = names(coef(fit)), estimate = coef(fit), se = sqrt(diag(V)))
  pars$parameter <- c(b = "hill", c = "bottom", d = "top", e = "ic50", f = "asym")[pars$parameter]
  list(params = pars, samples = res, rse = summary(fit)$sigma, df = df.residual(fit))
}
cases <- list(c("plate_ll4.csv", "LL.4", "none"), c("plate_ll4.csv", "LL.4", "1/y^2"),
              c("plate_ll4.csv", "LL.4", "pom"), c("plate_ll5.csv", "LL.5", "none"),
              c("plate_ll5.csv", "LL.5", "1/y^2"))
P <- data.frame(); S <- data.frame()
for (cs in cases) {
  r <- run(cs[1], cs[2], cs[3])
  tag <- data.frame(file = cs[1], model = cs[2], weights = cs[3])
  P <- rbind(P, cbind(tag, r$params, rse = r$rse, df = r$df))
  S <- rbind(S, cbind(tag, r$samples))
}
write.csv(P, "nls_params.csv", row.names = FALSE)
write.csv(S, "nls_samples.csv", row.names = FALSE)
cat(R.version.string, "\n")
